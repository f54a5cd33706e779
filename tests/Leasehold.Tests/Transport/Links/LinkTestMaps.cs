using System.Net;
using System.Net.Sockets;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Membership;

namespace Leasehold.Tests.Transport.Links;

/// <summary>Cluster maps on loopback for link tests: process pi hosts worker-i and server-i; p0 also driver-0 and client-0.</summary>
internal static class LinkTestMaps
{
    public static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray();

    /// <summary><paramref name="count"/> free loopback TCP ports, or fresh socket paths in a new directory.</summary>
    public static LinkAddress[] Addresses(bool unix, int count)
    {
        if (unix)
        {
            var directory = Path.Combine(Path.GetTempPath(), "lhl-" + Path.GetRandomFileName().Replace(".", ""));
            Directory.CreateDirectory(directory);
            return Enumerable.Range(0, count).Select(i => LinkAddress.Parse($"unix:{directory}/p{i}.sock")).ToArray();
        }
        // Held open together so no two are the same port, then released for the transports to bind.
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        foreach (var l in listeners) l.Start();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToList();
        foreach (var l in listeners) l.Stop();
        return ports.Select(p => LinkAddress.Parse($"tcp://127.0.0.1:{p}")).ToArray();
    }

    public static ClusterMap Map(IReadOnlyList<LinkAddress> addresses, string cluster = "conformance") =>
        new(cluster, addresses.Select((a, i) => new ProcessEntry($"p{i}", a, i == 0
            ? [NodeId.Driver, NodeId.Client(0), NodeId.Worker(0), NodeId.CacheServer(0)]
            : [NodeId.Worker(i), NodeId.CacheServer(i)])).ToList());

    /// <summary>The map as the JSON file `--map` reads.</summary>
    public static string Json(ClusterMap map) => System.Text.Json.JsonSerializer.Serialize(new
    {
        cluster = map.Cluster,
        processes = map.Processes.Select(p => new { name = p.Name, address = p.Address.Text, nodes = p.Nodes.Select(n => n.ToString()).ToArray() }),
    });
}
