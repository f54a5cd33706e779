using System.Text.Json;

namespace Leasehold.Runtime.Transport.Membership;

/// <summary>One process of a cluster: its name, where it listens, and the nodes it hosts.</summary>
public sealed record ProcessEntry(string Name, LinkAddress Address, IReadOnlyList<NodeId> Nodes);

/// <summary>
/// Static membership: every process of a cluster, where it listens and which nodes it hosts. Every process
/// reads the same map (from flags or a file); a node lives in exactly one process. Membership that changes
/// at run time (etcd) is a later issue; this map is fixed for a cluster's life.
/// </summary>
public sealed class ClusterMap
{
    private readonly Dictionary<NodeId, ProcessEntry> _byNode = [];
    private readonly Dictionary<string, ProcessEntry> _byName = new(StringComparer.Ordinal);

    public ClusterMap(string cluster, IReadOnlyList<ProcessEntry> processes)
    {
        if (string.IsNullOrWhiteSpace(cluster) || cluster.Length > 64 || !cluster.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new FormatException($"the cluster name '{cluster}' must be 1 to 64 letters, digits, '-' or '_' (it names region files)");
        if (processes.Count == 0) throw new FormatException("a cluster map lists at least one process");
        Cluster = cluster;
        Processes = processes;
        var addresses = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in processes)
        {
            if (!_byName.TryAdd(p.Name, p)) throw new FormatException($"the process name '{p.Name}' appears twice in the cluster map");
            if (!addresses.Add(p.Address.Text)) throw new FormatException($"the address {p.Address} is given to two processes");
            foreach (var n in p.Nodes)
            {
                if (n.Role == NodeRole.Host) throw new FormatException($"process '{p.Name}' lists {n}: hosts are implied by the nodes a process runs, not listed");
                if (!_byNode.TryAdd(n, p)) throw new FormatException($"{n} is hosted by both '{_byNode[n].Name}' and '{p.Name}'");
            }
        }
        // Every process that runs the driver or a worker also runs that node's host, which builds and retires its nodes.
        foreach (var (node, p) in _byNode.ToList())
        {
            if (node == NodeId.Driver) _byNode[NodeId.DriverHost] = p;
            else if (node.Role == NodeRole.Worker) _byNode[NodeId.WorkerHost(node.Index)] = p;
        }
        if (!_byNode.ContainsKey(NodeId.Driver)) throw new FormatException("no process of the cluster map hosts driver-0");
        Workers = _byNode.Keys.Count(n => n.Role == NodeRole.Worker);
        for (int i = 0; i < Workers; i++)
            if (!_byNode.ContainsKey(NodeId.Worker(i)))
                throw new FormatException($"the cluster map has {Workers} workers but none is worker-{i}: workers are numbered from 0 without gaps");
    }

    /// <summary>The cluster's name: region files and logs carry it, so two clusters on one host never meet.</summary>
    public string Cluster { get; }
    public IReadOnlyList<ProcessEntry> Processes { get; }
    public int Workers { get; }

    public ProcessEntry ProcessOf(NodeId node) =>
        _byNode.TryGetValue(node, out var p) ? p : throw new KeyNotFoundException($"no process of cluster '{Cluster}' hosts {node}");

    public bool TryProcessOf(NodeId node, out ProcessEntry process) => _byNode.TryGetValue(node, out process!);

    public ProcessEntry Process(string name) =>
        _byName.TryGetValue(name, out var p) ? p : throw new KeyNotFoundException($"the cluster map of '{Cluster}' has no process named '{name}' (it has {string.Join(", ", _byName.Keys)})");

    /// <summary>
    /// The usual shape: a process "driver" hosting driver-0 and the causal client, and one process per worker,
    /// "worker-i", hosting worker-i and cache server i (co-located with the functions, as in the paper).
    /// </summary>
    public static ClusterMap Conventional(string cluster, LinkAddress driver, IReadOnlyList<LinkAddress> workers)
    {
        var processes = new List<ProcessEntry> { new("driver", driver, [NodeId.Driver, NodeId.Client(0)]) };
        for (int i = 0; i < workers.Count; i++)
            processes.Add(new ProcessEntry($"worker-{i}", workers[i], [NodeId.Worker(i), NodeId.CacheServer(i)]));
        return new ClusterMap(cluster, processes);
    }

    /// <summary>
    /// Reads a map file: <c>{"cluster": "demo", "processes": [{"name": "driver", "address": "tcp://127.0.0.1:7100",
    /// "nodes": ["driver-0", "client-0"]}, …]}</c>. A bad file is refused with a message that names the file and the cause.
    /// </summary>
    public static ClusterMap Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new FormatException($"cannot read the cluster map {path}: {e.Message}"); }
        try { return Parse(text); }
        catch (FormatException e) { throw new FormatException($"the cluster map {path}: {e.Message}"); }
    }

    public static ClusterMap Parse(string json)
    {
        MapFile? file;
        try { file = JsonSerializer.Deserialize<MapFile>(json, new JsonSerializerOptions { PropertyNameCaseInsensitive = true, AllowTrailingCommas = true, ReadCommentHandling = JsonCommentHandling.Skip }); }
        catch (JsonException e) { throw new FormatException($"not valid JSON: {e.Message}"); }
        if (file?.Cluster is null || file.Processes is null) throw new FormatException("it needs \"cluster\" and \"processes\"");
        var processes = new List<ProcessEntry>();
        foreach (var p in file.Processes)
        {
            if (string.IsNullOrWhiteSpace(p.Name)) throw new FormatException("a process has no \"name\"");
            if (!LinkAddress.TryParse(p.Address, out var address, out var error)) throw new FormatException($"process '{p.Name}': {error}");
            var nodes = new List<NodeId>();
            foreach (var n in p.Nodes ?? [])
                nodes.Add(NodeId.TryParse(n, out var id) ? id : throw new FormatException($"process '{p.Name}': '{n}' is not a node; write driver-0, worker-N, server-N or client-0"));
            processes.Add(new ProcessEntry(p.Name, address, nodes));
        }
        return new ClusterMap(file.Cluster, processes);
    }

    private sealed record MapFile(string? Cluster, List<ProcessFile>? Processes);
    private sealed record ProcessFile(string? Name, string? Address, List<string>? Nodes);
}
