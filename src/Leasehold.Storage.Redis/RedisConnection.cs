using System.Net;
using Leasehold.Runtime.Storage;
using StackExchange.Redis;

namespace Leasehold.Storage.Redis;

/// <summary>
/// Connects to a Redis Cluster and checks, before any data is touched, that it is one Leasehold can trust:
/// every node in cluster mode, the cluster healthy, and every node persisting with the append-only file.
/// Whatever is wrong becomes a <see cref="StoreUnavailableException"/> naming the cause and the endpoints.
/// </summary>
internal static class RedisConnection
{
    /// <summary>A bad endpoint fails within this bound instead of hanging the caller.</summary>
    public const int ConnectTimeoutMs = 3000;

    /// <summary>The longest an operation may wait for its reply; a 1 MiB value over loopback takes milliseconds.</summary>
    public const int OperationTimeoutMs = 10_000;

    /// <summary>Parses "host:port[,host:port…]"; a malformed one is a StoreUnavailableException naming it.</summary>
    public static ConfigurationOptions Options(string endpoints)
    {
        var options = new ConfigurationOptions
        {
            ConnectTimeout = ConnectTimeoutMs,
            AbortOnConnectFail = true,
            ConnectRetry = 1,
            SyncTimeout = OperationTimeoutMs,
            AsyncTimeout = OperationTimeoutMs,
            AllowAdmin = true, // CONFIG GET, to check persistence; nothing else of admin is used
            ClientName = "leasehold",
        };
        var parts = endpoints.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new StoreUnavailableException($"redis: no endpoint given ('{endpoints}'); expected HOST:PORT[,HOST:PORT…]");
        foreach (var part in parts)
        {
            int colon = part.LastIndexOf(':');
            string host = colon > 0 ? part[..colon].Trim('[', ']') : "";
            if (host.Length == 0 || !int.TryParse(part[(colon + 1)..], out int port) || port is < 1 or > 65535)
                throw new StoreUnavailableException($"redis: '{part}' in '{endpoints}' is not HOST:PORT");
            options.EndPoints.Add(IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port));
        }
        return options;
    }

    /// <summary>Connects and checks the cluster; returns the connection and a durability warning, if any.</summary>
    public static async Task<(ConnectionMultiplexer Connection, string? DurabilityWarning)> ConnectAsync(string endpoints)
    {
        var options = Options(endpoints);
        ConnectionMultiplexer connection;
        try
        {
            connection = await ConnectionMultiplexer.ConnectAsync(options);
        }
        catch (RedisConnectionException e)
        {
            throw new StoreUnavailableException($"redis: cannot connect to a Redis Cluster at {endpoints}: no node could be reached ({e.FailureType}; each is given {ConnectTimeoutMs / 1000} s)", e);
        }
        try
        {
            string? warning = await CheckAsync(connection, endpoints);
            return (connection, warning);
        }
        catch (Exception e)
        {
            connection.Dispose();
            if (e is RedisException or TimeoutException) throw new StoreUnavailableException($"redis: checking the cluster at {endpoints} failed: {e.Message}", e);
            throw;
        }
    }

    private static async Task<string?> CheckAsync(ConnectionMultiplexer connection, string endpoints)
    {
        var servers = connection.GetServers().Where(s => s.IsConnected).ToList();
        if (servers.Count == 0) throw new StoreUnavailableException($"redis: no node of {endpoints} is connected");
        foreach (var server in servers)
            if (server.ServerType != ServerType.Cluster)
                throw new StoreUnavailableException($"redis: {server.EndPoint} (of {endpoints}) is not in cluster mode (it runs as {server.ServerType.ToString().ToLowerInvariant()}); Leasehold's redis engine needs a Redis Cluster (cluster-enabled yes)");

        // Under RESP3 the reply is a verbatim string ("txt:" before the first line), so find the field anywhere.
        string info = (string?)await servers[0].ExecuteAsync("CLUSTER", "INFO") ?? "";
        int at = info.IndexOf("cluster_state:", StringComparison.Ordinal);
        string? state = at < 0 ? null : info[at..].Split('\n')[0].Trim();
        if (state != "cluster_state:ok")
            throw new StoreUnavailableException($"redis: the cluster at {endpoints} is not serving ({state ?? "no cluster_state in CLUSTER INFO"}); check that every slot has a live master");

        // The answering node may list itself without an address (no cluster-announce-ip): it is connected.
        var masters = servers[0].ClusterConfiguration?.Nodes.Where(n => !n.IsReplica && !n.IsMyself && n.Slots.Count > 0).ToList() ?? [];
        foreach (var master in masters)
            if (!connection.GetServer(master.EndPoint).IsConnected)
                throw new StoreUnavailableException($"redis: master {master.EndPoint} of the cluster at {endpoints} does not answer");

        var settings = new List<NodePersistence>();
        foreach (var server in connection.GetServers().Where(s => s.IsConnected))
        {
            try
            {
                var config = (await server.ConfigGetAsync("append*")).ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
                settings.Add(new(server.EndPoint.ToString() ?? "?", config.GetValueOrDefault("appendonly"), config.GetValueOrDefault("appendfsync"), null));
            }
            catch (RedisServerException e) // CONFIG may be renamed or forbidden (managed services)
            {
                settings.Add(new(server.EndPoint.ToString() ?? "?", null, null, e.Message));
            }
        }
        return Durability.Evaluate(settings);
    }
}

/// <summary>What one node reports of its persistence, or why it could not be read.</summary>
internal sealed record NodePersistence(string EndPoint, string? AppendOnly, string? AppendFsync, string? Unreadable);

/// <summary>
/// Judges the nodes' persistence. Without the append-only file a node restart loses every acknowledged
/// commit, which is refused. appendfsync everysec or no only loses up to about a second (or what the OS
/// had not written) when a node crashes: a warning, not a refusal, since many deployments accept that.
/// </summary>
internal static class Durability
{
    public static string? Evaluate(IReadOnlyList<NodePersistence> nodes)
    {
        var off = nodes.Where(n => n.Unreadable is null && !string.Equals(n.AppendOnly, "yes", StringComparison.OrdinalIgnoreCase)).ToList();
        if (off.Count > 0)
            throw new StoreUnavailableException($"redis: {string.Join(", ", off.Select(n => $"{n.EndPoint} runs with appendonly {n.AppendOnly ?? "unset"}"))}: a restart of such a node loses acknowledged commits; set appendonly yes and appendfsync always on every node");
        var warnings = new List<string>();
        foreach (var n in nodes)
        {
            if (n.Unreadable is not null)
                warnings.Add($"{n.EndPoint}: persistence settings unreadable ({n.Unreadable}), durability unverified");
            else if (!string.Equals(n.AppendFsync, "always", StringComparison.OrdinalIgnoreCase))
                warnings.Add($"{n.EndPoint} runs with appendfsync {n.AppendFsync ?? "unset"}, so a crash of that node can lose commits it acknowledged (set appendfsync always)");
        }
        return warnings.Count == 0 ? null : "redis: " + string.Join("; ", warnings);
    }
}
