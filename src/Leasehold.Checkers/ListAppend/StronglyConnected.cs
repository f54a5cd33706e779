namespace Leasehold.Checkers.ListAppend;

/// <summary>
/// Tarjan's strongly connected components, iterative (a million nodes would overflow the stack),
/// over the edges of a chosen kind and, optionally, only inside one component found before.
/// </summary>
internal sealed class StronglyConnected(DependencyGraph graph)
{
    private readonly int[] _index = new int[graph.Nodes];
    private readonly int[] _low = new int[graph.Nodes];
    private readonly int[] _stamp = new int[graph.Nodes];   // == _generation: visited in this run
    private readonly bool[] _onStack = new bool[graph.Nodes];
    private int _generation;

    /// <summary>
    /// Components of more than one node, each as a list of nodes. <paramref name="within"/> restricts the
    /// search to nodes where it is true (null: all nodes).
    /// </summary>
    public List<int[]> Components(IEnumerable<int> roots, EdgeKind mask, Func<int, bool>? within = null)
    {
        _generation++;
        var result = new List<int[]>();
        var stack = new Stack<int>();
        var call = new Stack<(int Node, int Next)>();
        int counter = 0;
        foreach (int root in roots)
        {
            if (_stamp[root] == _generation || (within is not null && !within(root))) continue;
            Visit(root);
            while (call.Count > 0)
            {
                var (node, next) = call.Pop();
                var outs = graph.Out(node);
                bool descended = false;
                while (next < outs.Length)
                {
                    var e = graph.Edges[outs[next++]];
                    if ((e.Kind & mask) == 0 || (within is not null && !within(e.To))) continue;
                    if (_stamp[e.To] != _generation)
                    {
                        call.Push((node, next));
                        Visit(e.To);
                        descended = true;
                        break;
                    }
                    if (_onStack[e.To]) _low[node] = Math.Min(_low[node], _index[e.To]);
                }
                if (descended) continue;
                if (_low[node] == _index[node])
                {
                    var members = new List<int>();
                    int m;
                    do
                    {
                        m = stack.Pop();
                        _onStack[m] = false;
                        members.Add(m);
                    } while (m != node);
                    if (members.Count > 1) result.Add([.. members]);
                }
                if (call.Count > 0)
                {
                    int parent = call.Peek().Node;
                    _low[parent] = Math.Min(_low[parent], _low[node]);
                }
            }
        }
        return result;

        void Visit(int v)
        {
            _stamp[v] = _generation;
            _index[v] = _low[v] = counter++;
            stack.Push(v);
            _onStack[v] = true;
            call.Push((v, 0));
        }
    }
}
