using Leasehold.Runtime.Storage;
using Leasehold.Storage.Redis;
using StackExchange.Redis;

namespace Leasehold.Tests.Storage;

/// <summary>
/// The Redis Cluster the tests use: LEASEHOLD_REDIS, or scripts/servers.sh's three masters on loopback.
/// Each test opens its own keyspace and removes its keys afterwards, so tests run in parallel on one cluster.
/// When the cluster is not there (decided once per run), tests are skipped outside CI and fail in CI (CI=true),
/// saying how to start it: each test is a [SkippableFact] that opens its store through <see cref="OpenAsync"/>.
/// </summary>
internal static class RedisTestCluster
{
    public static string Endpoints => Support.ExternalServer.Redis;

    public static bool InCi => Support.ExternalServer.InCi;

    private static readonly Support.ServerProbe Probe = new(
        () => Endpoints.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(e =>
        {
            int colon = e.LastIndexOf(':');
            return (e[..colon], int.Parse(e[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        }).ToList(),
        async () =>
        {
            try
            {
                var (connection, _) = await RedisConnection.ConnectAsync(Endpoints);
                await connection.DisposeAsync();
                return null;
            }
            catch (StoreUnavailableException e)
            {
                return $"no usable Redis Cluster at {Endpoints} ({e.Message}); start one with `scripts/servers.sh start` (or point LEASEHOLD_REDIS at one)";
            }
        });

    /// <summary>Why the cluster cannot be used in this run, or null when it can.</summary>
    public static Task<string?> UnavailableAsync() => Probe.UnavailableAsync();

    /// <summary>Skips the calling test when the cluster is not there; under CI=true fails it, saying how to start it.</summary>
    public static async Task RequireOrSkipAsync() => Support.ExternalServer.RequireOrSkip(await UnavailableAsync());

    public static string NewKeyspace(string purpose) => $"lh-test-{purpose}-{Environment.ProcessId}-{Guid.NewGuid():N}";

    public static async Task<RedisStateStore> OpenAsync(string keyspace)
    {
        await RequireOrSkipAsync();
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
        if (list.Count == 0 || await UnavailableAsync() is not null) return;
        var (connection, _) = await RedisConnection.ConnectAsync(Endpoints);
        await using var _1 = connection;
        var db = connection.GetDatabase();
        foreach (var keyspace in list)
            foreach (var pattern in new RedisKeys(keyspace).AllKeysPatterns)
                await Task.WhenAll((await KeysAsync(connection, pattern)).Select(k => db.KeyDeleteAsync(k.Key)));
    }
}
