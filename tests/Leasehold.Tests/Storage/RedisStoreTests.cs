using Leasehold.Runtime.Storage;
using Leasehold.Storage.Redis;
using StackExchange.Redis;

namespace Leasehold.Tests.Storage;

/// <summary>
/// What the conformance suite cannot see of the Redis engine: where its keys land in the cluster, what a
/// reader does when a commit pruned the version it was after, what other processes can and cannot do, and
/// the refusals at open (bad endpoints, a standalone node, a node without the append-only file).
/// </summary>
public sealed class RedisStoreTests : IAsyncLifetime
{
    private readonly List<string> _keyspaces = [];
    private readonly List<IStateStore> _open = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _open) await store.DisposeAsync();
        await RedisTestCluster.DeleteKeyspacesAsync(_keyspaces);
    }

    private async Task<RedisStateStore> Open(string? keyspace = null)
    {
        if (keyspace is null) _keyspaces.Add(keyspace = RedisTestCluster.NewKeyspace("redis"));
        var store = await RedisTestCluster.OpenAsync(keyspace);
        _open.Add(store);
        return store;
    }

    private static List<KeyValuePair<StateKey, byte[]?>> Writes(string table, Func<int, string> key, int count) =>
        Enumerable.Range(0, count).Select(i => new KeyValuePair<StateKey, byte[]?>(new(table, key(i)), Value.FromLong(i))).ToList();

    [SkippableFact]
    public async Task The_versions_of_one_batch_land_on_several_masters()
    {
        var store = await Open();
        await store.WriteVersionsAsync(1, Writes("accounts", i => $"acct-{i}", 200));
        await store.CommitAsync(1);

        var found = await RedisTestCluster.KeysAsync(store.Connection, store.Keys.TablePattern("accounts"));
        Assert.Equal(200, found.Count);
        var perMaster = found.GroupBy(k => k.Master.EndPoint.ToString()).ToDictionary(g => g.Key!, g => g.Count());
        Assert.True(perMaster.Count >= 2, $"a 200-key batch landed on {perMaster.Count} master(s): {string.Join(", ", perMaster)}");
    }

    [SkippableFact]
    public async Task Braces_in_user_text_do_not_become_a_hash_tag()
    {
        var store = await Open();
        // Left as they are, every one of these keys would hash by "same" alone: one slot, one master.
        var writes = Writes("{same}", i => $"{{same}}-{i}-}}{{", 200);
        Assert.Single(writes.Select(w => store.Connection.HashSlot($"{w.Key.Table}:{w.Key.Key}")).Distinct()); // the control
        await store.WriteVersionsAsync(1, writes);
        await store.CommitAsync(1);

        var found = await RedisTestCluster.KeysAsync(store.Connection, store.Keys.TablePattern("{same}"));
        Assert.Equal(200, found.Count);
        int slots = found.Select(k => store.Connection.HashSlot(k.Key)).Distinct().Count();
        Assert.True(slots > 150, $"200 keys with braces hashed to only {slots} slots");
        Assert.True(found.Select(k => k.Master.EndPoint.ToString()).Distinct().Count() >= 2);
        for (int i = 0; i < 200; i += 19) Assert.Equal(i, Value.ToLong(await store.ReadCommittedAsync(writes[i].Key)));
        Assert.Equal(writes.Select(w => w.Key.Key).Order(StringComparer.Ordinal), (await Scan(store, "{same}")).Select(r => r.Key));
    }

    [SkippableFact]
    public async Task The_metadata_of_a_keyspace_shares_one_slot_on_purpose()
    {
        var store = await Open();
        var keys = store.Keys;
        int slot = store.Connection.HashSlot(keys.Commit);
        Assert.All(new[] { keys.IndexedBatches, keys.Index(1), keys.Index(99), keys.LoggedBatches, keys.Log(7), keys.Format },
            k => Assert.Equal(slot, store.Connection.HashSlot(k)));
    }

    [SkippableFact]
    public async Task Keys_with_NUL_colons_and_escapes_round_trip_and_stay_apart()
    {
        var store = await Open();
        string[] keys = ["a\0b", "a", "a:b", "%7B", "{", "%", "x%25y", "\0"];
        var writes = keys.Select((k, i) => new KeyValuePair<StateKey, byte[]?>(new("t:x", k), Value.FromLong(i)))
            .Append(new(new StateKey("t", "x:a"), Value.FromLong(100))) // table "t", key "x:a" is not table "t:x", key "a"
            .ToList();
        await store.WriteVersionsAsync(1, writes);
        await store.CommitAsync(1);
        for (int i = 0; i < keys.Length; i++) Assert.Equal(i, Value.ToLong(await store.ReadCommittedAsync(new("t:x", keys[i]))));
        Assert.Equal(keys.Order(StringComparer.Ordinal), (await Scan(store, "t:x")).Select(r => r.Key));
        Assert.Equal(["x:a"], (await Scan(store, "t")).Select(r => r.Key));
    }

    [SkippableFact]
    public async Task A_reader_whose_commit_record_went_stale_while_a_commit_pruned_reads_again()
    {
        var store = await Open();
        var key = new StateKey("t", "k");
        await store.LoadAsync([new(key, Value.FromLong(1))]);
        await store.WriteVersionsAsync(1, [new(key, Value.FromLong(2))]);
        await store.CommitAsync(1);
        await store.DisposeAsync(); // waits for the prune: the batch-0 version is gone
        _open.Remove(store);
        store = await Open(store.Keyspace);
        var hash = await store.Connection.GetDatabase().HashKeysAsync(store.Keys.Version(key));
        Assert.Equal(["1"], hash.Select(f => (string)f!));
        // As of batch 0 nothing is left, but batch 1 has committed meanwhile: the read is repeated as of it.
        Assert.Equal(2, Value.ToLong(await store.ReadAtAsync(store.Keys.Version(key), last: 0)));
    }

    [SkippableFact]
    public async Task A_committed_delete_leaves_no_key_behind()
    {
        var store = await Open();
        var key = new StateKey("t", "gone");
        await store.LoadAsync([new(key, Value.FromLong(1))]);
        await store.WriteVersionsAsync(1, [new(key, null)]);
        await store.CommitAsync(1);
        await store.DisposeAsync();
        _open.Remove(store);
        store = await Open(store.Keyspace);
        Assert.False(await store.Connection.GetDatabase().KeyExistsAsync(store.Keys.Version(key)));
        Assert.Null(await store.ReadCommittedAsync(key));
    }

    [SkippableFact]
    public async Task Another_process_sees_commits_and_cannot_write_into_a_committed_batch()
    {
        var first = await Open();
        var second = await Open(first.Keyspace); // opened before the commit: its own view says 0
        var key = new StateKey("t", "k");
        await first.WriteVersionsAsync(1, [new(key, Value.FromLong(5))]);
        await first.CommitAsync(1);
        Assert.Equal(5, Value.ToLong(await second.ReadCommittedAsync(key)));
        var refused = await Assert.ThrowsAsync<StoreConflictException>(async () => await second.WriteVersionsAsync(1, [new(key, Value.FromLong(9))]));
        Assert.Contains("already committed", refused.Message);
        await Assert.ThrowsAsync<StoreConflictException>(async () => await second.CommitAsync(1));
        await second.CommitAsync(2);
        Assert.Equal(2, await first.LastCommittedAsync());
        Assert.Equal(5, Value.ToLong(await first.ReadCommittedAsync(key)));
    }

    [SkippableFact]
    public async Task The_shared_test_cluster_is_fully_durable()
    {
        var store = await Open();
        Assert.Null(store.DurabilityWarning); // scripts/servers.sh runs appendonly yes, appendfsync always
    }

    [SkippableFact]
    public async Task A_keyspace_of_another_format_is_refused()
    {
        var store = await Open();
        await store.Connection.GetDatabase().StringSetAsync(store.Keys.Format, "leasehold-store/999");
        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => RedisStateStore.OpenAsync(RedisTestCluster.Endpoints, store.Keyspace));
        Assert.Contains("leasehold-store/999", e.Message);
    }

    [Fact]
    public async Task An_endpoint_where_nothing_listens_is_refused_and_named()
    {
        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => RedisStateStore.OpenAsync("127.0.0.1:1"));
        Assert.Contains("127.0.0.1:1", e.Message);
    }

    [Theory]
    [InlineData("", "no endpoint")]
    [InlineData("localhost", "'localhost'")]
    [InlineData("127.0.0.1:7101,127.0.0.1:99999", "'127.0.0.1:99999'")]
    [InlineData("127.0.0.1:abc", "'127.0.0.1:abc'")]
    public async Task A_malformed_endpoint_list_is_refused_naming_the_bad_part(string endpoints, string named)
    {
        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => RedisStateStore.OpenAsync(endpoints));
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public async Task A_keyspace_that_could_collide_or_make_a_hash_tag_is_refused()
    {
        foreach (var keyspace in new[] { "", "a:b", "{x}", "a b", new string('k', 101) })
            await Assert.ThrowsAsync<ArgumentException>(() => RedisStateStore.OpenAsync(RedisTestCluster.Endpoints, keyspace));
    }

    [Fact]
    public void Durability_refuses_nodes_without_the_append_only_file_and_warns_about_lax_fsync()
    {
        Assert.Null(Durability.Evaluate([new("a:1", "yes", "always", null), new("b:2", "yes", "always", null)]));
        var warning = Durability.Evaluate([new("a:1", "yes", "always", null), new("b:2", "yes", "everysec", null)]);
        Assert.Contains("b:2 runs with appendfsync everysec", warning);
        Assert.DoesNotContain("a:1", warning);
        Assert.Contains("unverified", Durability.Evaluate([new("a:1", null, null, "ERR unknown command 'CONFIG'")]));
        var refused = Assert.Throws<StoreUnavailableException>(() => Durability.Evaluate([new("a:1", "yes", "always", null), new("c:3", "no", "always", null)]));
        Assert.Contains("c:3 runs with appendonly no", refused.Message);
    }

    [SkippableFact]
    public async Task A_standalone_node_is_refused_as_not_in_cluster_mode()
    {
        Support.ExternalServer.RequireOrSkip(RedisServerProcess.Unavailable);
        await using var server = await RedisServerProcess.StartAsync("--appendonly", "yes", "--appendfsync", "always");
        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => RedisStateStore.OpenAsync(server.Endpoint));
        Assert.Contains("not in cluster mode", e.Message);
        Assert.Contains(server.Endpoint, e.Message);
    }

    [SkippableFact]
    public async Task Appendfsync_other_than_always_is_reported_and_appendonly_no_is_refused()
    {
        Support.ExternalServer.RequireOrSkip(RedisServerProcess.Unavailable);
        await using var server = await RedisServerProcess.StartAsync("--cluster-enabled", "yes", "--appendonly", "yes", "--appendfsync", "everysec");
        await server.FormSingleNodeClusterAsync();
        await using (var store = await RedisStateStore.OpenAsync(server.Endpoint, "fsync-check"))
        {
            Assert.NotNull(store.DurabilityWarning);
            Assert.Contains("appendfsync everysec", store.DurabilityWarning);
            Assert.Contains(server.Endpoint, store.DurabilityWarning);
        }
        Assert.Equal("+OK", await server.CommandAsync("CONFIG SET appendonly no"));
        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() => RedisStateStore.OpenAsync(server.Endpoint, "fsync-check"));
        Assert.Contains("appendonly no", e.Message);
    }

    private static async Task<List<KeyValuePair<string, byte[]>>> Scan(IStateStore store, string table)
    {
        var rows = new List<KeyValuePair<string, byte[]>>();
        await foreach (var row in store.ScanCommittedAsync(table)) rows.Add(row);
        return rows;
    }
}
