using Leasehold.Runtime.Storage;
using Leasehold.Storage.Redis;

namespace Leasehold.Tests.Storage.Conformance;

/// <summary>
/// The suite on the Redis Cluster (LEASEHOLD_REDIS, default scripts/servers.sh's). Each test gets its own
/// keyspace, removed at the end; a restart is a new connection on the same keyspace, as a new process makes.
/// </summary>
public sealed class RedisStoreConformanceTests : StoreConformanceTests
{
    private readonly List<string> _keyspaces = [];

    protected override bool Durable => true;

    // The suite skips (locally) or fails (in CI) with this reason, saying how to start the cluster.
    protected override Task<string?> UnavailableAsync() => RedisTestCluster.UnavailableAsync();

    protected override async Task<IStateStore> OpenAsync(bool fresh)
    {
        if (fresh || _keyspaces.Count == 0) _keyspaces.Add(RedisTestCluster.NewKeyspace("conf"));
        return await RedisTestCluster.OpenAsync(_keyspaces[^1]);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await RedisTestCluster.DeleteKeyspacesAsync(_keyspaces);
    }
}
