namespace Leasehold.Checkers.Causal;

/// <summary>
/// Tarjan's strongly connected components, iterative (a long session would overflow the stack), over the
/// union of several edge layers and only the nodes a mask admits. <see cref="ListAppend.StronglyConnected"/>
/// is the same algorithm bound to the list-append graph's labelled edges; this one walks plain
/// <see cref="Csr"/> layers. A component counts when it is a cycle: more than one node, or one node with an
/// edge to itself.
/// </summary>
internal static class LayeredTarjan
{
    public static List<int[]> Cycles(Csr[] layers, IEnumerable<int> roots, Func<int, bool> within)
    {
        int nodes = layers[0].Nodes;
        var index = new int[nodes];
        var low = new int[nodes];
        var onStack = new bool[nodes];
        Array.Fill(index, -1);
        var result = new List<int[]>();
        var stack = new Stack<int>();
        // A frame: the node, and how far it has got through its edges (layer, then edge within the layer).
        var call = new Stack<(int Node, int Layer, int Next)>();
        int counter = 0;
        foreach (int root in roots)
        {
            if (index[root] >= 0 || !within(root)) continue;
            Visit(root);
            while (call.Count > 0)
            {
                var (node, layer, next) = call.Pop();
                bool descended = false;
                for (; layer < layers.Length && !descended; layer++, next = 0)
                {
                    var targets = layers[layer].Targets(node);
                    while (next < targets.Length)
                    {
                        int to = targets[next++];
                        if (!within(to)) continue;
                        if (index[to] < 0)
                        {
                            call.Push((node, layer, next));
                            Visit(to);
                            descended = true;
                            break;
                        }
                        if (onStack[to]) low[node] = Math.Min(low[node], index[to]);
                    }
                }
                if (descended) continue;
                if (low[node] == index[node])
                {
                    var members = new List<int>();
                    int m;
                    do
                    {
                        m = stack.Pop();
                        onStack[m] = false;
                        members.Add(m);
                    } while (m != node);
                    if (members.Count > 1 || HasSelfLoop(node)) result.Add([.. members]);
                }
                if (call.Count > 0)
                {
                    int parent = call.Peek().Node;
                    low[parent] = Math.Min(low[parent], low[node]);
                }
            }
        }
        return result;

        void Visit(int v)
        {
            index[v] = low[v] = counter++;
            stack.Push(v);
            onStack[v] = true;
            call.Push((v, 0, 0));
        }

        bool HasSelfLoop(int v)
        {
            foreach (var layer in layers)
                if (layer.Targets(v).Contains(v)) return true;
            return false;
        }
    }
}
