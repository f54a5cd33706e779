namespace Leasehold.Runtime.Transport;

/// <summary>What a node does in its cluster: the role picks which messages it may receive.</summary>
public enum NodeRole : byte
{
    Driver = 0,
    Worker = 1,
    CacheServer = 2,
    Client = 3,
    /// <summary>
    /// A process's host: it builds and retires the nodes of each incarnation in its process. Host 0 is the driver
    /// process's; host i + 1 is worker i's. Hosts live for the process's life (incarnation 0).
    /// </summary>
    Host = 4,
}

/// <summary>
/// A node's address: its role and its index among the nodes of that role. Nodes know each other only by
/// these, never by reference, so any of them can live in another process. Old and new incarnations of a
/// node share its id; the <see cref="Incarnation"/> a message carries tells them apart.
/// </summary>
public readonly record struct NodeId(NodeRole Role, ushort Index)
{
    public static NodeId Driver => new(NodeRole.Driver, 0);
    public static NodeId Worker(int index) => new(NodeRole.Worker, checked((ushort)index));
    public static NodeId CacheServer(int index) => new(NodeRole.CacheServer, checked((ushort)index));
    public static NodeId Client(int index) => new(NodeRole.Client, checked((ushort)index));
    /// <summary>The driver process's host.</summary>
    public static NodeId DriverHost => new(NodeRole.Host, 0);
    /// <summary>The host of the process that runs worker <paramref name="worker"/>.</summary>
    public static NodeId WorkerHost(int worker) => new(NodeRole.Host, checked((ushort)(worker + 1)));

    /// <summary>The id in one word, as the wire carries it: role in the high 16 bits, index in the low.</summary>
    public int Packed => ((int)Role << 16) | Index;

    public static bool TryUnpack(int packed, out NodeId id)
    {
        int role = packed >>> 16;
        id = new NodeId((NodeRole)role, (ushort)packed);
        return role <= (int)NodeRole.Host;
    }

    /// <summary>Reads a node as <see cref="ToString"/> writes it: driver-0, worker-3, server-1, client-0.</summary>
    public static bool TryParse(string? text, out NodeId id)
    {
        id = default;
        int dash = text?.LastIndexOf('-') ?? -1;
        if (dash <= 0 || !ushort.TryParse(text.AsSpan(dash + 1), System.Globalization.NumberStyles.None, null, out ushort index)) return false;
        NodeRole? role = text![..dash] switch
        {
            "driver" => NodeRole.Driver,
            "worker" => NodeRole.Worker,
            "server" => NodeRole.CacheServer,
            "client" => NodeRole.Client,
            "host" => NodeRole.Host,
            _ => null,
        };
        if (role is null || (role == NodeRole.Driver && index != 0)) return false;
        id = new NodeId(role.Value, index);
        return true;
    }

    public override string ToString() => Role switch
    {
        NodeRole.Driver => $"driver-{Index}",
        NodeRole.Worker => $"worker-{Index}",
        NodeRole.CacheServer => $"server-{Index}",
        NodeRole.Client => $"client-{Index}",
        _ => $"host-{Index}",
    };
}

/// <summary>
/// One life of a cluster's nodes. Every message carries its sender's incarnation, and a node refuses a
/// message from another one: after a rollback the old nodes may still send, but nobody listens.
/// </summary>
public readonly record struct Incarnation(int Number)
{
    public override string ToString() => $"#{Number}";
}
