namespace Leasehold.Checkers.ListAppend;

/// <summary>
/// Finds short cycles inside one strongly connected component, by breadth-first search over chosen
/// edge kinds. A cycle is the list of edge ids it follows, in order.
/// </summary>
internal sealed class CycleSearch(DependencyGraph graph)
{
    private readonly int[] _parentEdge = new int[graph.Nodes];
    private readonly int[] _stamp = new int[graph.Nodes];
    private int _generation;

    /// <summary>The shortest path of <paramref name="mask"/> edges from <paramref name="from"/> to <paramref name="to"/>, inside the set; null if none.</summary>
    public List<int>? ShortestPath(int from, int to, EdgeKind mask, Func<int, bool> within, int maxLength = int.MaxValue)
    {
        _generation++;
        var queue = new Queue<(int Node, int Depth)>();
        queue.Enqueue((from, 0));
        _stamp[from] = _generation;
        _parentEdge[from] = -1;
        while (queue.Count > 0)
        {
            var (node, depth) = queue.Dequeue();
            if (depth >= maxLength) continue;
            foreach (int id in graph.Out(node))
            {
                var e = graph.Edges[id];
                if ((e.Kind & mask) == 0 || !within(e.To)) continue;
                if (e.To == to)
                {
                    var path = new List<int> { id };
                    for (int n = node; _parentEdge[n] >= 0; n = graph.Edges[_parentEdge[n]].From) path.Add(_parentEdge[n]);
                    path.Reverse();
                    return path;
                }
                if (_stamp[e.To] == _generation) continue;
                _stamp[e.To] = _generation;
                _parentEdge[e.To] = id;
                queue.Enqueue((e.To, depth + 1));
            }
        }
        return null;
    }

    /// <summary>The shortest cycle through any of a few start nodes of <paramref name="component"/>, using <paramref name="mask"/> edges.</summary>
    public List<int>? ShortestCycle(int[] component, EdgeKind mask, Func<int, bool> within, int starts = 8)
    {
        List<int>? best = null;
        int tried = 0;
        foreach (int start in component)
        {
            if (!graph.IsTransaction(start)) continue; // a cycle through a time node also passes a transaction
            var cycle = ShortestPath(start, start, mask, within, best is null ? int.MaxValue : best.Count - 1);
            if (cycle is not null && (best is null || cycle.Count < best.Count)) best = cycle;
            if (++tried >= starts) break;
        }
        return best;
    }

    /// <summary>A cycle with exactly one rw edge: an rw edge u → v closed by a path v → u of <paramref name="rest"/> edges.</summary>
    public List<int>? SingleRwCycle(int[] component, EdgeKind rest, Func<int, bool> within, int tries)
    {
        List<int>? best = null;
        int tried = 0;
        foreach (int node in component)
        {
            foreach (int id in graph.Out(node))
            {
                var e = graph.Edges[id];
                if (e.Kind != EdgeKind.RW || !within(e.To)) continue;
                var back = ShortestPath(e.To, e.From, rest, within, best is null ? int.MaxValue : best.Count - 2);
                if (back is not null && (best is null || back.Count + 1 < best.Count))
                {
                    back.Insert(0, id);
                    best = back;
                }
                if (++tried >= tries) return best;
            }
        }
        return best;
    }
}
