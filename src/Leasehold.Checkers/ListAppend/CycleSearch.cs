namespace Leasehold.Checkers.ListAppend;

/// <summary>
/// Finds short cycles inside one strongly connected component, by breadth-first search over chosen
/// edge kinds. A cycle is the list of edge ids it follows, in order. Length is counted in transactions,
/// not edges: a run of real-time edges through time nodes is one "completed before invoked" step however
/// many time nodes it crosses, so an edge into a time node costs nothing (a 0-1 breadth-first search).
/// </summary>
internal sealed class CycleSearch(DependencyGraph graph)
{
    private readonly int[] _parentEdge = new int[graph.Nodes];
    private readonly int[] _stamp = new int[graph.Nodes];
    private readonly int[] _cost = new int[graph.Nodes];
    private int _generation;

    /// <summary>How many transactions a path or cycle passes through (the targets of its edges that are transactions).</summary>
    public int Cost(List<int> path)
    {
        int cost = 0;
        foreach (int id in path) if (graph.IsTransaction(graph.Edges[id].To)) cost++;
        return cost;
    }

    /// <summary>
    /// The path of <paramref name="mask"/> edges from <paramref name="from"/> to <paramref name="to"/> through the fewest
    /// transactions (<see cref="Cost"/>), inside the set; null if none costs at most <paramref name="maxCost"/>.
    /// </summary>
    public List<int>? ShortestPath(int from, int to, EdgeKind mask, Func<int, bool> within, int maxCost = int.MaxValue)
    {
        _generation++;
        // Nodes at the current cost, and at one more. Edges into time nodes keep the cost, so they join the current queue.
        var current = new Queue<int>();
        var next = new Queue<int>();
        current.Enqueue(from);
        _stamp[from] = _generation;
        _cost[from] = 0;
        _parentEdge[from] = -1;
        for (int cost = 0; current.Count > 0 && cost <= maxCost; cost++)
        {
            while (current.Count > 0)
            {
                int node = current.Dequeue();
                if (_cost[node] != cost) continue; // reached more cheaply since it was queued
                foreach (int id in graph.Out(node))
                {
                    var e = graph.Edges[id];
                    if ((e.Kind & mask) == 0 || !within(e.To)) continue;
                    int step = graph.IsTransaction(e.To) ? 1 : 0;
                    if (e.To == to)
                    {
                        // Nodes leave the queues in order of cost, so the first arrival is the cheapest.
                        if (cost + step > maxCost) return null;
                        var path = new List<int> { id };
                        for (int n = node; _parentEdge[n] >= 0; n = graph.Edges[_parentEdge[n]].From) path.Add(_parentEdge[n]);
                        path.Reverse();
                        return path;
                    }
                    if (_stamp[e.To] == _generation && _cost[e.To] <= cost + step) continue;
                    _stamp[e.To] = _generation;
                    _cost[e.To] = cost + step;
                    _parentEdge[e.To] = id;
                    (step == 0 ? current : next).Enqueue(e.To);
                }
            }
            (current, next) = (next, current);
        }
        return null;
    }

    /// <summary>The shortest cycle (in transactions) through any of a few start nodes of <paramref name="component"/>, using <paramref name="mask"/> edges.</summary>
    public List<int>? ShortestCycle(int[] component, EdgeKind mask, Func<int, bool> within, int starts = 8)
    {
        List<int>? best = null;
        int bestCost = int.MaxValue, tried = 0;
        foreach (int start in component)
        {
            if (!graph.IsTransaction(start)) continue; // a cycle through a time node also passes a transaction
            var cycle = ShortestPath(start, start, mask, within, best is null ? int.MaxValue : bestCost - 1);
            if (cycle is not null && Cost(cycle) < bestCost)
            {
                best = cycle;
                bestCost = Cost(cycle);
            }
            if (++tried >= starts) break;
        }
        return best;
    }

    /// <summary>A cycle with exactly one rw edge: an rw edge u → v closed by a path v → u of <paramref name="rest"/> edges.</summary>
    public List<int>? SingleRwCycle(int[] component, EdgeKind rest, Func<int, bool> within, int tries)
    {
        List<int>? best = null;
        int bestCost = int.MaxValue, tried = 0;
        foreach (int node in component)
        {
            foreach (int id in graph.Out(node))
            {
                var e = graph.Edges[id];
                if (e.Kind != EdgeKind.RW || !within(e.To)) continue;
                // The rw edge itself enters a transaction (cost 1), so the way back must cost at most bestCost - 2.
                var back = ShortestPath(e.To, e.From, rest, within, best is null ? int.MaxValue : bestCost - 2);
                if (back is not null && Cost(back) + 1 < bestCost)
                {
                    back.Insert(0, id);
                    best = back;
                    bestCost = Cost(back);
                }
                if (++tried >= tries) return best;
            }
        }
        return best;
    }
}
