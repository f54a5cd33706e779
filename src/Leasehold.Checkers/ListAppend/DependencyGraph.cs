namespace Leasehold.Checkers.ListAppend;

[Flags]
public enum EdgeKind : byte
{
    /// <summary>Write–write: the source appended the element right before the target's in a key's version order.</summary>
    WW = 1,
    /// <summary>Write–read: the target read a version whose last element the source appended.</summary>
    WR = 2,
    /// <summary>Read–write (anti-dependency): the source read a version the target's append followed.</summary>
    RW = 4,
    /// <summary>Real time: the source completed before the target was invoked (through time nodes).</summary>
    RT = 8,
    All = WW | WR | RW | RT,
}

/// <summary>
/// One dependency, with what is needed to explain it in words. <paramref name="Unread"/>: an rw edge to a
/// committed append that no read shows (so it is not in the version order, but after every read without it).
/// </summary>
internal readonly record struct Edge(int From, int To, EdgeKind Kind, long Key, long Value, long Other, bool Unread = false);

/// <summary>
/// The dependency graph in compressed sparse rows. Nodes below <see cref="Transactions"/> are
/// transactions; the rest are time nodes, which turn the quadratic real-time order into a chain
/// (complete(T1) → time node … → invoke(T2)) with a linear number of edges.
/// </summary>
internal sealed class DependencyGraph
{
    private readonly int[] _offsets;
    private readonly int[] _edgeIds;

    public DependencyGraph(int transactions, int nodes, List<Edge> edges)
    {
        Transactions = transactions;
        Nodes = nodes;
        Edges = edges;
        _offsets = new int[nodes + 1];
        foreach (var e in edges) _offsets[e.From + 1]++;
        for (int i = 0; i < nodes; i++) _offsets[i + 1] += _offsets[i];
        _edgeIds = new int[edges.Count];
        var fill = (int[])_offsets.Clone();
        for (int i = 0; i < edges.Count; i++) _edgeIds[fill[edges[i].From]++] = i;
    }

    public int Transactions { get; }
    public int Nodes { get; }
    public List<Edge> Edges { get; }

    public bool IsTransaction(int node) => node < Transactions;

    /// <summary>The ids of the edges leaving <paramref name="node"/>.</summary>
    public ReadOnlySpan<int> Out(int node) => _edgeIds.AsSpan(_offsets[node], _offsets[node + 1] - _offsets[node]);
}
