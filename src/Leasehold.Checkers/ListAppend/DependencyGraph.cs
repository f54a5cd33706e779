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
/// One dependency, in 24 bytes: a million transactions make millions of edges. A data edge names the
/// key's version order and a position in it, which is enough to explain it in words (ww: the elements
/// at Position and Position + 1; wr: a read of length Position; rw: the same read, and the element at
/// Position that it missed). <paramref name="Unread"/> ≥ 0 marks an rw edge to a committed append that
/// no read shows (not in the version order, but after every read without it): its index among the
/// order's unread values. Real-time edges carry none of it.
/// </summary>
internal readonly record struct Edge(int From, int To, EdgeKind Kind, int Order, int Position, int Unread = -1);

/// <summary>Edges in fixed-size chunks: no doubling copy, no 2× peak, no large-object churn as the list grows.</summary>
internal sealed class EdgeList
{
    private const int ChunkBits = 16;
    private readonly List<Edge[]> _chunks = [];

    public int Count { get; private set; }

    public void Add(Edge edge)
    {
        int chunk = Count >> ChunkBits;
        if (chunk == _chunks.Count) _chunks.Add(new Edge[1 << ChunkBits]);
        _chunks[chunk][Count & ((1 << ChunkBits) - 1)] = edge;
        Count++;
    }

    public Edge this[int index] => _chunks[index >> ChunkBits][index & ((1 << ChunkBits) - 1)];
}

/// <summary>
/// The dependency graph in compressed sparse rows. Nodes below <see cref="Transactions"/> are
/// transactions; the rest are time nodes, which turn the quadratic real-time order into a chain
/// (complete(T1) → time node … → invoke(T2)) with a linear number of edges.
/// </summary>
internal sealed class DependencyGraph
{
    private readonly int[] _offsets;
    private readonly int[] _edgeIds;

    public DependencyGraph(int transactions, int nodes, EdgeList edges)
    {
        Transactions = transactions;
        Nodes = nodes;
        Edges = edges;
        _offsets = new int[nodes + 1];
        for (int i = 0; i < edges.Count; i++) _offsets[edges[i].From + 1]++;
        for (int i = 0; i < nodes; i++) _offsets[i + 1] += _offsets[i];
        _edgeIds = new int[edges.Count];
        var fill = (int[])_offsets.Clone();
        for (int i = 0; i < edges.Count; i++) _edgeIds[fill[edges[i].From]++] = i;
    }

    public int Transactions { get; }
    public int Nodes { get; }
    public EdgeList Edges { get; }

    public bool IsTransaction(int node) => node < Transactions;

    /// <summary>The ids of the edges leaving <paramref name="node"/>.</summary>
    public ReadOnlySpan<int> Out(int node) => _edgeIds.AsSpan(_offsets[node], _offsets[node + 1] - _offsets[node]);
}
