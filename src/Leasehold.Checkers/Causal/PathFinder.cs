namespace Leasehold.Checkers.Causal;

/// <summary>One edge of a path shown in an explanation: its layer (0 causal order, 1 conflict) and label.</summary>
internal readonly record struct PathStep(int From, int To, int Layer, int Label);

/// <summary>
/// Breadth-first search for the shortest path between two nodes of a layered graph, for explanations only
/// (a few per kind), inside the nodes a predicate admits, within a budget of visited nodes per search and one
/// for all searches together: a path across a long history can visit most of it, and `--examples 1000` should
/// not turn seconds into minutes.
/// </summary>
internal sealed class PathFinder(int nodes, long totalBudget)
{
    private long _remaining = totalBudget;

    private readonly int[] _stamp = new int[nodes];
    private readonly int[] _parent = new int[nodes];
    private readonly int[] _parentLayer = new int[nodes];
    private readonly int[] _parentLabel = new int[nodes];
    private readonly Queue<int> _queue = new();
    private int _generation;

    /// <summary>
    /// The shortest path from <paramref name="from"/> to <paramref name="to"/> (equal: the shortest cycle), or null.
    /// <paramref name="accept"/> says whether an edge (layer, label) may be the one that enters the target.
    /// </summary>
    public List<PathStep>? Find(Csr[] layers, int from, int to, Func<int, bool> allowed, Func<int, int, bool>? accept, int budget)
    {
        _generation++;
        _queue.Clear();
        _stamp[from] = _generation;
        _queue.Enqueue(from);
        int visited = 0;
        while (_queue.Count > 0 && visited++ < budget && _remaining-- > 0)
        {
            int node = _queue.Dequeue();
            for (int layer = 0; layer < layers.Length; layer++)
            {
                var targets = layers[layer].Targets(node);
                var labels = layers[layer].Labels(node);
                for (int i = 0; i < targets.Length; i++)
                {
                    int next = targets[i];
                    if (next == to && (accept is null || accept(layer, labels[i])))
                    {
                        var path = new List<PathStep> { new(node, to, layer, labels[i]) };
                        for (int n = node; n != from; n = _parent[n]) path.Add(new PathStep(_parent[n], n, _parentLayer[n], _parentLabel[n]));
                        path.Reverse();
                        return path;
                    }
                    if (next == to || _stamp[next] == _generation || !allowed(next)) continue;
                    _stamp[next] = _generation;
                    _parent[next] = node;
                    _parentLayer[next] = layer;
                    _parentLabel[next] = labels[i];
                    _queue.Enqueue(next);
                }
            }
        }
        return null;
    }
}
