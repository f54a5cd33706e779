using Leasehold.Runtime.Storage;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Storage.Conformance;

/// <summary>
/// One suite every store engine passes (testing.md, "Store conformance"): versioned writes with the
/// previous version kept, commit records in order and conditional, deletes, value sizes from empty to
/// 1 MiB, the batch log, discarding uncommitted batches, conditional records, concurrent clients, and —
/// for durable engines — everything surviving a restart. Each engine derives a class that opens it.
/// </summary>
public abstract class StoreConformanceTests : IAsyncLifetime
{
    private readonly List<IStateStore> _open = [];

    /// <summary>Opens the engine on a fresh, empty store for this test (the first call) or reopens the same data.</summary>
    protected abstract Task<IStateStore> OpenAsync(bool fresh);

    /// <summary>Whether the engine keeps data across a close and reopen.</summary>
    protected abstract bool Durable { get; }

    /// <summary>
    /// Whether a refused <see cref="IStateStore.WriteLogAsync"/> leaves nothing of itself behind (one write or one
    /// transaction). The interface's default makes the single calls in order, so the inputs may stay logged.
    /// </summary>
    protected virtual bool WritesTheLogAtomically => false;

    /// <summary>Why the engine cannot be reached here (a server that is not running), or null.</summary>
    protected virtual Task<string?> UnavailableAsync() => Task.FromResult<string?>(null);

    private string? _unavailable;

    public virtual async Task InitializeAsync() => _unavailable = await UnavailableAsync();

    public virtual async Task DisposeAsync()
    {
        foreach (var store in _open) await store.DisposeAsync();
    }

    protected async Task<IStateStore> Fresh()
    {
        ExternalServer.RequireOrSkip(_unavailable);
        var store = await OpenAsync(fresh: true);
        _open.Add(store);
        return store;
    }

    /// <summary>Closes <paramref name="store"/> and opens the same data again, as a restarted process would.</summary>
    protected async Task<IStateStore> Restart(IStateStore store)
    {
        _open.Remove(store);
        await store.DisposeAsync();
        var reopened = await OpenAsync(fresh: false);
        _open.Add(reopened);
        return reopened;
    }

    private static readonly StateKey K = new("t", "k");
    private static StateKey Key(int i, string table = "t") => new(table, $"key-{i}");

    [SkippableFact]
    public async Task Readers_see_the_newest_committed_version_and_never_an_uncommitted_one()
    {
        var store = await Fresh();
        await store.LoadAsync([new(K, Value.FromLong(1))]);
        await store.WriteVersionsAsync(1, [new(K, Value.FromLong(2))]);
        await store.WriteVersionsAsync(2, [new(K, Value.FromLong(3))]); // b and b+1 both wrote the key
        Assert.Equal(1, Value.ToLong(await store.ReadCommittedAsync(K)));
        await store.CommitAsync(1);
        Assert.Equal(2, Value.ToLong(await store.ReadCommittedAsync(K)));
        await store.CommitAsync(2);
        Assert.Equal(3, Value.ToLong(await store.ReadCommittedAsync(K)));
        Assert.Equal(2, await store.LastCommittedAsync());
    }

    [SkippableFact]
    public async Task Commit_records_are_conditional_and_go_in_batch_order()
    {
        var store = await Fresh();
        Assert.Equal(0, await store.LastCommittedAsync());
        await Assert.ThrowsAsync<StoreConflictException>(async () => await store.CommitAsync(2));
        await store.CommitAsync(1);
        await Assert.ThrowsAsync<StoreConflictException>(async () => await store.CommitAsync(1));
        await Assert.ThrowsAsync<StoreConflictException>(async () => await store.CommitAsync(3));
        Assert.Equal(1, await store.LastCommittedAsync());
    }

    /// <summary>A second owner's claim fences the first: its commit records and log appends are refused, and nothing of them lands.</summary>
    [SkippableFact]
    public async Task A_newer_claim_fences_the_older_owners_commits_and_log_appends()
    {
        var store = await Fresh();
        long first = await store.ClaimAsync();
        Assert.True(first >= 1);
        await store.AppendBatchInputAsync(1, new byte[] { 1 }, first);
        await store.CommitAsync(1, first);
        long second = await store.ClaimAsync();
        Assert.True(second > first);
        await Assert.ThrowsAsync<StoreFencedException>(async () => await store.CommitAsync(2, first));
        await Assert.ThrowsAsync<StoreFencedException>(async () => await store.AppendBatchInputAsync(2, new byte[] { 2 }, first));
        Assert.Equal(1, await store.LastCommittedAsync());
        var log = new List<long>();
        await foreach (var (batch, _) in store.ReadBatchInputsAsync(0)) log.Add(batch);
        Assert.Empty(log); // batch 1's input went with its commit; the fenced append left nothing
        await store.AppendBatchInputAsync(2, new byte[] { 2 }, second);
        await store.CommitAsync(2, second);
        Assert.Equal(2, await store.LastCommittedAsync());
        if (Durable)
        {
            var reopened = await Restart(store);
            await Assert.ThrowsAsync<StoreFencedException>(async () => await reopened.CommitAsync(3, first)); // the claim is durable
            await reopened.CommitAsync(3, second);
        }
    }

    [SkippableFact]
    public async Task A_committed_batch_is_final()
    {
        var store = await Fresh();
        await store.WriteVersionsAsync(1, [new(K, Value.FromLong(5))]);
        await store.CommitAsync(1);
        await Assert.ThrowsAsync<StoreConflictException>(async () => await store.WriteVersionsAsync(1, [new(K, Value.FromLong(9))]));
        Assert.Equal(5, Value.ToLong(await store.ReadCommittedAsync(K)));
    }

    [SkippableFact]
    public async Task A_delete_is_a_version_too_and_hides_the_key_once_committed()
    {
        var store = await Fresh();
        await store.LoadAsync([new(K, Value.FromLong(1)), new(Key(1), Value.FromLong(7))]);
        await store.WriteVersionsAsync(1, [new(K, null)]);
        Assert.NotNull(await store.ReadCommittedAsync(K));
        await store.CommitAsync(1);
        Assert.Null(await store.ReadCommittedAsync(K));
        var rows = await Scan(store, "t");
        Assert.Equal(["key-1"], rows.Select(r => r.Key));
        await store.WriteVersionsAsync(2, [new(K, Value.FromLong(3))]);
        await store.CommitAsync(2);
        Assert.Equal(3, Value.ToLong(await store.ReadCommittedAsync(K)));
    }

    [SkippableTheory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(1 << 20)]
    public async Task Values_from_empty_to_one_mebibyte_round_trip_exactly(int size)
    {
        var store = await Fresh();
        var value = new byte[size];
        new Random(size).NextBytes(value);
        await store.WriteVersionsAsync(1, [new(K, value)]);
        await store.CommitAsync(1);
        var read = await store.ReadCommittedAsync(K);
        Assert.NotNull(read); // an empty value exists: it is not a delete
        Assert.True(value.AsSpan().SequenceEqual(read), $"a {size}-byte value came back as {read.Length} bytes or with other content");
        read.AsSpan().Fill(0xAB); // and no caller can change stored state through the array it got
        if (size > 0) Assert.Equal(value[0], (await store.ReadCommittedAsync(K))![0]);
    }

    [SkippableFact]
    public async Task One_worker_write_of_many_keys_becomes_visible_at_the_commit_record_and_not_before()
    {
        var store = await Fresh();
        var writes = Enumerable.Range(0, 2000).Select(i => new KeyValuePair<StateKey, byte[]?>(Key(i), Value.FromLong(i))).ToList();
        await store.WriteVersionsAsync(1, writes);
        Assert.Null(await store.ReadCommittedAsync(Key(0)));
        Assert.Null(await store.ReadCommittedAsync(Key(1999)));
        Assert.Empty(await Scan(store, "t"));
        await store.CommitAsync(1);
        var rows = await Scan(store, "t");
        Assert.Equal(2000, rows.Count);
        Assert.Equal(Enumerable.Range(0, 2000).Select(i => $"key-{i}").Order(StringComparer.Ordinal), rows.Select(r => r.Key)); // key order
        Assert.All(rows, r => Assert.Equal(long.Parse(r.Key[4..]), Value.ToLong(r.Value)));
    }

    [SkippableFact]
    public async Task Tables_are_separate_namespaces_and_keys_may_hold_any_text()
    {
        var store = await Fresh();
        string[] keys = ["plain", "with space", "a/b:c{d}", "ünïcødé-鍵", "", "k\u0001\u00ff", "tab\tnew\nline"];
        var writes = keys.SelectMany((k, i) => new[]
        {
            new KeyValuePair<StateKey, byte[]?>(new StateKey("one", k), Value.FromLong(i)),
            new KeyValuePair<StateKey, byte[]?>(new StateKey("two", k), Value.FromLong(100 + i)),
        }).ToList();
        await store.WriteVersionsAsync(1, writes);
        await store.CommitAsync(1);
        for (int i = 0; i < keys.Length; i++)
        {
            Assert.Equal(i, Value.ToLong(await store.ReadCommittedAsync(new StateKey("one", keys[i]))));
            Assert.Equal(100 + i, Value.ToLong(await store.ReadCommittedAsync(new StateKey("two", keys[i]))));
        }
        Assert.Equal(keys.Order(StringComparer.Ordinal), (await Scan(store, "one")).Select(r => r.Key));
        Assert.Empty(await Scan(store, "on")); // a table is not a prefix match
    }

    [SkippableFact]
    public async Task Discarding_uncommitted_batches_removes_their_versions_and_keeps_the_committed_ones()
    {
        var store = await Fresh();
        await store.LoadAsync([new(K, Value.FromLong(1))]);
        await store.WriteVersionsAsync(1, [new(K, Value.FromLong(2)), new(Key(1), Value.FromLong(10))]);
        await store.CommitAsync(1);
        await store.WriteVersionsAsync(2, [new(K, Value.FromLong(3))]);
        await store.WriteVersionsAsync(3, [new(K, Value.FromLong(4)), new(Key(2), Value.FromLong(20))]);
        long removed = await store.DiscardUncommittedAsync();
        Assert.Equal(3, removed);
        Assert.Equal(2, Value.ToLong(await store.ReadCommittedAsync(K)));
        // The rolled-back batches re-execute under the same numbers: nothing of the first attempt survives.
        await store.WriteVersionsAsync(2, [new(Key(3), Value.FromLong(30))]);
        await store.CommitAsync(2);
        await store.WriteVersionsAsync(3, []);
        await store.CommitAsync(3);
        Assert.Equal(2, Value.ToLong(await store.ReadCommittedAsync(K)));
        Assert.Null(await store.ReadCommittedAsync(Key(2)));
        Assert.Equal(30, Value.ToLong(await store.ReadCommittedAsync(Key(3))));
        Assert.Equal(0, await store.DiscardUncommittedAsync());
    }

    [SkippableFact]
    public async Task The_batch_log_returns_inputs_in_batch_order_after_a_given_batch()
    {
        var store = await Fresh();
        for (int b = 1; b <= 5; b++) await store.AppendBatchInputAsync(b, new byte[] { (byte)b, 0, (byte)(b * 3) });
        var after2 = await Log(store, 2);
        Assert.Equal([3L, 4L, 5L], after2.Select(e => e.Key));
        Assert.Equal(new byte[] { 4, 0, 12 }, after2[1].Value);
        Assert.Empty(await Log(store, 5));
        await store.CommitAsync(1);
        await store.CommitAsync(2);
        Assert.Equal([3L, 4L, 5L], (await Log(store, 0)).Select(e => e.Key)); // a committed batch's input is dropped with its commit
    }

    [SkippableFact]
    public async Task Records_are_written_only_when_they_hold_what_the_caller_expects()
    {
        var store = await Fresh();
        Assert.Null(await store.ReadRecordAsync("idem:1"));
        Assert.True(await store.CompareAndSetAsync("idem:1", null, [1]));
        Assert.False(await store.CompareAndSetAsync("idem:1", null, [2]));      // exists already
        Assert.False(await store.CompareAndSetAsync("idem:1", [9], [2]));       // holds something else
        Assert.True(await store.CompareAndSetAsync("idem:1", [1], [2, 2]));
        Assert.Equal(new byte[] { 2, 2 }, await store.ReadRecordAsync("idem:1"));
        Assert.Null(await store.ReadRecordAsync("idem:2"));
    }

    [SkippableFact]
    public async Task Racing_conditional_writes_let_exactly_one_win_each_round()
    {
        var store = await Fresh();
        byte[]? current = null;
        for (int round = 0; round < 10; round++)
        {
            var expected = current;
            var attempts = Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
                await store.CompareAndSetAsync("counter", expected, [(byte)round, (byte)c]) ? c : -1)).ToArray();
            var winners = (await Task.WhenAll(attempts)).Where(c => c >= 0).ToArray();
            Assert.Single(winners);
            current = await store.ReadRecordAsync("counter");
            Assert.Equal(new byte[] { (byte)round, (byte)winners[0] }, current);
        }
    }

    [SkippableFact]
    public async Task Racing_group_commits_of_the_same_batch_let_exactly_one_win_each_round()
    {
        var store = await Fresh();
        for (long batch = 1; batch <= 5; batch++)
        {
            long b = batch;
            await store.WriteVersionsAsync(b, [new(K, Value.FromLong(b))]);
            var attempts = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                try
                {
                    await store.WriteLogAsync([], b, b, 0);
                    return true;
                }
                catch (StoreConflictException)
                {
                    return false;
                }
            })).ToArray();
            Assert.Equal(1, (await Task.WhenAll(attempts)).Count(won => won));
            Assert.Equal(b, await store.LastCommittedAsync());
            Assert.Equal(b, Value.ToLong(await store.ReadCommittedAsync(K)));
        }
    }

    [SkippableFact]
    public async Task Concurrent_workers_write_one_batch_while_readers_read_and_the_commit_shows_all_of_it()
    {
        var store = await Fresh();
        await store.LoadAsync(Enumerable.Range(0, 400).Select(i => new KeyValuePair<StateKey, byte[]>(Key(i), Value.FromLong(-1))));
        for (long batch = 1; batch <= 5; batch++)
        {
            long b = batch;
            var workers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
                await store.WriteVersionsAsync(b, Enumerable.Range(0, 100).Select(i => new KeyValuePair<StateKey, byte[]?>(Key(w * 100 + i), Value.FromLong(b * 1000 + w * 100 + i))).ToList())));
            var readers = Enumerable.Range(0, 4).Select(r => Task.Run(async () =>
            {
                for (int i = 0; i < 50; i++)
                {
                    long v = Value.ToLong(await store.ReadCommittedAsync(Key((r * 97 + i * 13) % 400)));
                    Assert.True(v == -1 || v / 1000 == b - 1, $"batch {b} not yet committed, but a reader saw {v}");
                }
            }));
            await Task.WhenAll(workers.Concat(readers));
            await store.CommitAsync(b);
            for (int i = 0; i < 400; i += 37) Assert.Equal(b * 1000 + i, Value.ToLong(await store.ReadCommittedAsync(Key(i))));
        }
    }

    [SkippableFact]
    public async Task Initial_state_loads_only_into_a_fresh_store()
    {
        var store = await Fresh();
        await store.LoadAsync([new(K, Value.FromLong(1))]);
        await store.CommitAsync(1);
        await Assert.ThrowsAsync<StoreConflictException>(async () => await store.LoadAsync([new(K, Value.FromLong(2))]));
        Assert.Equal(1, Value.ToLong(await store.ReadCommittedAsync(K)));
    }

    [SkippableFact]
    public async Task Everything_committed_survives_a_restart_and_nothing_uncommitted_becomes_visible()
    {
        if (!Durable) return; // the memory engine keeps nothing across a restart by design
        var store = await Fresh();
        await store.LoadAsync([new(K, Value.FromLong(1))]);
        await store.AppendBatchInputAsync(1, new byte[] { 1 });
        await store.WriteVersionsAsync(1, [new(K, Value.FromLong(2)), new(Key(1), new byte[1 << 20])]);
        await store.CommitAsync(1);
        await store.AppendBatchInputAsync(2, new byte[] { 2 });
        await store.WriteVersionsAsync(2, [new(K, Value.FromLong(3))]); // never committed: the process "dies"
        Assert.True(await store.CompareAndSetAsync("idem:x", null, [7]));

        store = await Restart(store);
        Assert.Equal(1, await store.LastCommittedAsync());
        Assert.Equal(2, Value.ToLong(await store.ReadCommittedAsync(K)));
        Assert.Equal(1 << 20, (await store.ReadCommittedAsync(Key(1)))!.Length);
        Assert.Equal(new byte[] { 7 }, await store.ReadRecordAsync("idem:x"));
        Assert.Equal([2L], (await Log(store, 1)).Select(e => e.Key)); // recovery finds batch 2 from the log
        Assert.Equal(1, await store.DiscardUncommittedAsync());        // and its versions through the write index
        await store.WriteVersionsAsync(2, [new(K, Value.FromLong(30))]);
        await store.CommitAsync(2);
        store = await Restart(store);
        Assert.Equal(30, Value.ToLong(await store.ReadCommittedAsync(K)));
        Assert.Equal(2, await store.LastCommittedAsync());
    }

    private static KeyValuePair<long, ReadOnlyMemory<byte>> Input(long batch) => new(batch, new byte[] { (byte)batch, 7 });

    [SkippableFact]
    public async Task A_group_commit_logs_the_inputs_commits_the_range_and_drops_the_committed_batches_inputs()
    {
        var store = await Fresh();
        await store.LoadAsync([new(K, Value.FromLong(0))]);
        await store.WriteLogAsync([Input(1), Input(2)], commitFrom: 1, commitThrough: 0, epoch: 0);
        await store.WriteVersionsAsync(1, [new(K, Value.FromLong(1))]);
        await store.WriteVersionsAsync(2, [new(K, Value.FromLong(2)), new(Key(1), Value.FromLong(20))]);
        await store.WriteLogAsync([Input(3), Input(4)], commitFrom: 1, commitThrough: 2, epoch: 0);
        Assert.Equal(2, await store.LastCommittedAsync());
        Assert.Equal(2, Value.ToLong(await store.ReadCommittedAsync(K)));
        Assert.Equal(20, Value.ToLong(await store.ReadCommittedAsync(Key(1))));
        var log = await Log(store, 0);
        Assert.Equal([3L, 4L], log.Select(e => e.Key)); // batches 1 and 2 committed: their inputs went with the commit
        Assert.Equal(new byte[] { 4, 7 }, log[1].Value);
        if (Durable)
        {
            store = await Restart(store);
            Assert.Equal(2, await store.LastCommittedAsync());
            Assert.Equal(2, Value.ToLong(await store.ReadCommittedAsync(K)));
            Assert.Equal([3L, 4L], (await Log(store, 0)).Select(e => e.Key));
        }
    }

    [SkippableFact]
    public async Task A_group_commit_with_an_empty_range_only_logs()
    {
        var store = await Fresh();
        await store.WriteVersionsAsync(1, [new(K, Value.FromLong(1))]);
        await store.WriteLogAsync([Input(1)], commitFrom: 1, commitThrough: 0, epoch: 0);
        Assert.Equal(0, await store.LastCommittedAsync());
        Assert.Null(await store.ReadCommittedAsync(K));
        Assert.Equal([1L], (await Log(store, 0)).Select(e => e.Key));
    }

    [SkippableFact]
    public async Task A_group_commit_with_a_stale_epoch_is_refused_and_applies_nothing()
    {
        var store = await Fresh();
        long first = await store.ClaimAsync();
        await store.WriteVersionsAsync(1, [new(K, Value.FromLong(1))]);
        long second = await store.ClaimAsync();
        await Assert.ThrowsAsync<StoreFencedException>(async () => await store.WriteLogAsync([Input(2)], 1, 1, first));
        Assert.Equal(0, await store.LastCommittedAsync());
        Assert.Null(await store.ReadCommittedAsync(K));
        Assert.Empty(await Log(store, 0));
        await store.WriteLogAsync([Input(2)], 1, 1, second); // the current owner's goes through
        Assert.Equal(1, await store.LastCommittedAsync());
        Assert.Equal(1, Value.ToLong(await store.ReadCommittedAsync(K)));
        Assert.Equal([2L], (await Log(store, 0)).Select(e => e.Key));
    }

    [SkippableFact]
    public async Task A_group_commit_whose_range_does_not_start_after_the_last_committed_batch_is_refused()
    {
        var store = await Fresh();
        await store.WriteVersionsAsync(1, [new(K, Value.FromLong(1))]);
        await store.WriteLogAsync([], 1, 1, 0);
        await store.WriteVersionsAsync(2, [new(K, Value.FromLong(2))]);
        await Assert.ThrowsAsync<StoreConflictException>(async () => await store.WriteLogAsync([Input(4)], 3, 3, 0)); // skips batch 2
        await Assert.ThrowsAsync<StoreConflictException>(async () => await store.WriteLogAsync([Input(5)], 1, 2, 0)); // recommits batch 1
        Assert.Equal(1, await store.LastCommittedAsync());
        Assert.Equal(1, Value.ToLong(await store.ReadCommittedAsync(K)));
        if (WritesTheLogAtomically) Assert.Empty(await Log(store, 0)); // the refused calls' inputs were not logged either
        await store.WriteLogAsync([], 2, 2, 0);
        Assert.Equal(2, Value.ToLong(await store.ReadCommittedAsync(K)));
    }

    protected static async Task<List<KeyValuePair<string, byte[]>>> Scan(IStateStore store, string table)
    {
        var rows = new List<KeyValuePair<string, byte[]>>();
        await foreach (var row in store.ScanCommittedAsync(table)) rows.Add(row);
        return rows;
    }

    private static async Task<List<KeyValuePair<long, byte[]>>> Log(IStateStore store, long after)
    {
        var entries = new List<KeyValuePair<long, byte[]>>();
        await foreach (var e in store.ReadBatchInputsAsync(after)) entries.Add(e);
        return entries;
    }
}

public sealed class MemoryStoreConformanceTests : StoreConformanceTests
{
    protected override bool Durable => false;

    protected override Task<IStateStore> OpenAsync(bool fresh) => Task.FromResult<IStateStore>(new MemoryStateStore());
}
