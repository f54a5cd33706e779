using Leasehold.Runtime.Storage;
using Leasehold.Storage.RocksDb;

namespace Leasehold.Tests.Storage;

/// <summary>
/// The RocksDB store's durable path beyond the conformance suite: how many synced writes a group commit
/// costs, and the interleavings its lock split must survive, forced through the store's test hooks (one
/// thread, no sleeps) instead of hoping a race shows them.
/// </summary>
public sealed class RocksDbStoreTests : IAsyncLifetime
{
    private static readonly StateKey K = new("t", "k");
    private readonly string _dir = Directory.CreateTempSubdirectory("leasehold-rocks-store-").FullName;
    private RocksDbStateStore _store = null!;

    public Task InitializeAsync()
    {
        _store = RocksDbStateStore.Open(_dir);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private static KeyValuePair<long, ReadOnlyMemory<byte>> Input(long batch) => new(batch, new byte[] { (byte)batch });

    private static async Task<long> SyncsDuringAsync(ISyncCounter counter, Func<Task> work)
    {
        long before = counter.SyncedWrites;
        await work();
        return counter.SyncedWrites - before;
    }

    [Fact]
    public async Task A_group_commit_of_two_inputs_and_a_commit_is_one_synced_write_where_the_single_calls_make_three()
    {
        ISyncCounter counter = _store;
        Assert.Equal(0, await SyncsDuringAsync(counter, async () => await _store.WriteVersionsAsync(1, [new(K, Value.FromLong(1))])));

        long grouped = await SyncsDuringAsync(counter, async () => await _store.WriteLogAsync([Input(2), Input(3)], 1, 1, epoch: 0));
        Assert.Equal(1, grouped);

        // The negative control: the same work as single calls, so the counter can tell one sync from several.
        await _store.WriteVersionsAsync(2, [new(K, Value.FromLong(2))]);
        long single = await SyncsDuringAsync(counter, async () =>
        {
            await _store.AppendBatchInputAsync(4, new byte[] { 4 });
            await _store.AppendBatchInputAsync(5, new byte[] { 5 });
            await _store.CommitAsync(2);
        });
        Assert.Equal(3, single);
        Assert.Equal(2, Value.ToLong(await _store.ReadCommittedAsync(K)));
    }

    /// <summary>
    /// A reader looks up the key's newest committed batch (1), then batch 2's commit, which supersedes it,
    /// writes, then the reader reads the version it looked up. The commit defers deleting version 1 to the next
    /// commit, so the read still finds it; deleting it in its own write would leave the reader nothing to read.
    /// </summary>
    [Fact]
    public async Task A_point_read_that_looked_up_a_version_before_a_commit_superseded_it_still_reads_that_version()
    {
        await _store.LoadAsync([new(K, Value.FromLong(0))]);
        await _store.WriteVersionsAsync(1, [new(K, Value.FromLong(1))]);
        await _store.CommitAsync(1);
        await _store.WriteVersionsAsync(2, [new(K, Value.FromLong(2))]);
        int commitsBetween = 0;
        _store.BetweenLookupAndGet = key =>
        {
            _store.BetweenLookupAndGet = null;
            _store.CommitAsync(2).GetAwaiter().GetResult();
            commitsBetween++;
        };

        var read = await _store.ReadCommittedAsync(K);

        Assert.Equal(1, commitsBetween);
        Assert.Equal(1, Value.ToLong(read)); // what was committed when it looked: the read is ordered before batch 2
        Assert.Equal(2, Value.ToLong(await _store.ReadCommittedAsync(K)));
        await _store.WriteVersionsAsync(3, [new(K, Value.FromLong(3))]);
        await _store.CommitAsync(3); // deletes version 1 now that no reader can hold it
        Assert.Equal(3, Value.ToLong(await _store.ReadCommittedAsync(K)));
    }

    /// <summary>
    /// While a commit's synced write is under way, another thread's point read and its version write for the
    /// next batch complete: neither waits for the sync. The commit waits for them inside the sync hook, so if
    /// either needed a lock the commit holds across the sync, they would wait for each other and the liveness
    /// bound would fail the test.
    /// </summary>
    [Fact]
    public async Task Reads_and_the_next_batchs_version_writes_do_not_wait_for_a_commits_sync()
    {
        await _store.LoadAsync([new(K, Value.FromLong(0))]);
        await _store.WriteVersionsAsync(1, [new(K, Value.FromLong(1))]);
        long? readDuringSync = null;
        _store.BeforeSyncedWrite = () =>
        {
            _store.BeforeSyncedWrite = null;
            var other = Task.Run(async () =>
            {
                readDuringSync = Value.ToLong(await _store.ReadCommittedAsync(K));
                await _store.WriteVersionsAsync(2, [new(K, Value.FromLong(2))]);
            });
            Assert.True(other.Wait(TimeSpan.FromMinutes(1)), "a read and a version write waited for the commit's synced write: a lock is held across the sync");
        };

        await _store.CommitAsync(1);

        Assert.Equal(0, readDuringSync); // batch 1 was not committed yet while it synced
        Assert.Equal(1, Value.ToLong(await _store.ReadCommittedAsync(K)));
        await _store.CommitAsync(2);
        Assert.Equal(2, Value.ToLong(await _store.ReadCommittedAsync(K)));
    }

    [Fact]
    public async Task A_version_write_for_the_batch_being_committed_is_refused_and_one_for_the_next_is_not()
    {
        await _store.WriteVersionsAsync(1, [new(K, Value.FromLong(1))]);
        Exception? refused = null;
        _store.BeforeSyncedWrite = () =>
        {
            _store.BeforeSyncedWrite = null;
            refused = Record.Exception(() => _store.WriteVersionsAsync(1, [new(K, Value.FromLong(9))]).GetAwaiter().GetResult());
            _store.WriteVersionsAsync(2, [new(K, Value.FromLong(2))]).GetAwaiter().GetResult();
        };

        await _store.CommitAsync(1);

        Assert.IsType<StoreConflictException>(refused);
        Assert.Equal(1, Value.ToLong(await _store.ReadCommittedAsync(K)));
        await _store.CommitAsync(2);
        Assert.Equal(2, Value.ToLong(await _store.ReadCommittedAsync(K)));
    }

    /// <summary>A synced write that fails applies nothing: the batch is open again for its versions and its commit.</summary>
    [Fact]
    public async Task A_commit_whose_synced_write_fails_leaves_the_batch_uncommitted_and_committable()
    {
        await _store.LoadAsync([new(K, Value.FromLong(0))]);
        await _store.WriteVersionsAsync(1, [new(K, Value.FromLong(1))]);
        _store.BeforeSyncedWrite = () =>
        {
            _store.BeforeSyncedWrite = null;
            throw new IOException("the disk is full (injected)");
        };

        await Assert.ThrowsAsync<IOException>(async () => await _store.CommitAsync(1));

        Assert.Equal(0, await _store.LastCommittedAsync());
        Assert.Equal(0, Value.ToLong(await _store.ReadCommittedAsync(K)));
        await _store.WriteVersionsAsync(1, [new(new StateKey("t", "other"), Value.FromLong(5))]);
        await _store.CommitAsync(1);
        Assert.Equal(1, Value.ToLong(await _store.ReadCommittedAsync(K)));
    }
}
