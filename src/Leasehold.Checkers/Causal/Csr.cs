namespace Leasehold.Checkers.Causal;

/// <summary>
/// Directed edges in compressed sparse rows, each with an int label (what the edge is, for explanations).
/// Built once from an edge list; several of these over the same nodes form a layered graph (causal order,
/// and the conflict edges added for convergence).
/// </summary>
internal sealed class Csr
{
    private readonly int[] _offsets;
    private readonly int[] _targets;
    private readonly int[] _labels;

    public Csr(int nodes, EdgeBuffer edges)
    {
        _offsets = new int[nodes + 1];
        for (int i = 0; i < edges.Count; i++) _offsets[edges.From(i) + 1]++;
        for (int i = 0; i < nodes; i++) _offsets[i + 1] += _offsets[i];
        _targets = new int[edges.Count];
        _labels = new int[edges.Count];
        var fill = (int[])_offsets.Clone();
        for (int i = 0; i < edges.Count; i++)
        {
            int at = fill[edges.From(i)]++;
            _targets[at] = edges.To(i);
            _labels[at] = edges.Label(i);
        }
    }

    public int Nodes => _offsets.Length - 1;

    public int Edges => _targets.Length;

    public ReadOnlySpan<int> Targets(int node) => _targets.AsSpan(_offsets[node], _offsets[node + 1] - _offsets[node]);

    public ReadOnlySpan<int> Labels(int node) => _labels.AsSpan(_offsets[node], _offsets[node + 1] - _offsets[node]);
}

/// <summary>An edge list in three parallel growable arrays (12 bytes an edge, no per-edge object).</summary>
internal sealed class EdgeBuffer
{
    private int[] _from = new int[1024], _to = new int[1024], _label = new int[1024];

    public int Count { get; private set; }

    public void Add(int from, int to, int label)
    {
        if (Count == _from.Length)
        {
            Array.Resize(ref _from, Count * 2);
            Array.Resize(ref _to, Count * 2);
            Array.Resize(ref _label, Count * 2);
        }
        _from[Count] = from;
        _to[Count] = to;
        _label[Count] = label;
        Count++;
    }

    public int From(int i) => _from[i];
    public int To(int i) => _to[i];
    public int Label(int i) => _label[i];
}
