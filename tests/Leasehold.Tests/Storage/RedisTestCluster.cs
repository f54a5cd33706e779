using Leasehold.Runtime.Storage;
using Leasehold.Storage.Redis;
using StackExchange.Redis;

namespace Leasehold.Tests.Storage;

/// <summary>
/// The Redis Cluster the tests use: LEASEHOLD_REDIS, or scripts/servers.sh's three masters on loopback.
/// Each test opens its own keyspace and removes its keys afterwards, so tests run in parallel on one cluster.
/// When the cluster is not there, tests are skipped outside CI and fail in CI (CI=true), saying how to start it.
/// </summary>
internal static class RedisTestCluster
{
    public static string Endpoints => Support.ExternalServer.Redis;

    public static bool InCi => Support.ExternalServer.InCi;

    private static readonly Lazy<string?> Probe = new(() =>
    {
        try
        {
            var (connection, _) = RedisConnection.ConnectAsync(Endpoints).GetAwaiter().GetResult();
            connection.Dispose();
            return null;
        }
        catch (StoreUnavailableException e)
        {
            return $"no usable Redis Cluster at {Endpoints} ({e.Message}); start one with `scripts/servers.sh start` (or point LEASEHOLD_REDIS at one)";
        }
    });

    /// <summary>Why the cluster cannot be used, or null when it can.</summary>
    public static string? UnavailableReason => Probe.Value;

    /// <summary>Skip a test for this reason (null in CI, where a missing cluster must fail).</summary>
    public static string? SkipReason => InCi ? null : UnavailableReason;

    /// <summary>Throws, with how to start the cluster, when it is not there (CI).</summary>
    public static void RequireAvailable()
    {
        if (UnavailableReason is { } reason) throw new InvalidOperationException(reason + (InCi ? " (CI=true: a missing server fails the run)" : ""));
    }

    public static string NewKeyspace(string purpose) => $"lh-test-{purpose}-{Environment.ProcessId}-{Guid.NewGuid():N}";

    public static async Task<RedisStateStore> OpenAsync(string keyspace)
    {
        RequireAvailable();
        return await RedisStateStore.OpenAsync(Endpoints, keyspace);
    }

    /// <summary>Every key of the keyspaces, from every master (for a test's own checks and its cleanup).</summary>
    public static async Task<List<(IServer Master, RedisKey Key)>> KeysAsync(IConnectionMultiplexer connection, string pattern)
    {
        var found = new List<(IServer, RedisKey)>();
        foreach (var server in connection.GetServers().Where(s => s.IsConnected && !s.IsReplica))
            await foreach (var key in server.KeysAsync(database: 0, pattern: pattern, pageSize: 1000))
                found.Add((server, key));
        return found;
    }

    /// <summary>Removes every key of <paramref name="keyspaces"/>.</summary>
    public static async Task DeleteKeyspacesAsync(IEnumerable<string> keyspaces)
    {
        var list = keyspaces.ToList();
        if (list.Count == 0 || UnavailableReason is not null) return;
        var (connection, _) = await RedisConnection.ConnectAsync(Endpoints);
        await using var _1 = connection;
        var db = connection.GetDatabase();
        foreach (var keyspace in list)
            foreach (var pattern in new RedisKeys(keyspace).AllKeysPatterns)
                await Task.WhenAll((await KeysAsync(connection, pattern)).Select(k => db.KeyDeleteAsync(k.Key)));
    }
}

/// <summary>A fact that needs the Redis Cluster: reported skipped, with how to start it, when it is not there outside CI.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (RedisTestCluster.SkipReason is { } reason) Skip = reason;
    }
}
