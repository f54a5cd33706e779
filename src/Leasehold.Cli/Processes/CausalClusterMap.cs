using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Membership;

namespace Leasehold.Cli.Processes;

/// <summary>What a cluster map must hold to run the causal mode: the client, and one cache server per worker.</summary>
internal static class CausalClusterMap
{
    /// <summary>
    /// The ring's size: one cache server per worker, server-0 … server-(n−1), each somewhere in the map, and the client
    /// (client-0) too. A map without them is a <see cref="UsageException"/> naming what is missing.
    /// </summary>
    public static int Servers(ClusterMap map, string path)
    {
        int n = map.Workers;
        if (!map.TryProcessOf(NodeId.Client(0), out _))
            throw new UsageException($"the cluster map {path} names no process for client-0: the causal mode's client runs in the driver's process");
        var missing = Enumerable.Range(0, n).Where(i => !map.TryProcessOf(NodeId.CacheServer(i), out _)).Select(i => $"server-{i}").ToList();
        if (missing.Count > 0)
            throw new UsageException($"the cluster map {path} has {n} workers but no process hosts {string.Join(", ", missing)}: the causal mode runs one cache server per worker");
        var extra = map.Processes.SelectMany(p => p.Nodes).Where(node => node.Role == NodeRole.CacheServer && node.Index >= n).ToList();
        if (extra.Count > 0)
            throw new UsageException($"the cluster map {path} hosts {string.Join(", ", extra)} beyond its {n} workers: the causal ring has one server per worker");
        return n;
    }
}
