namespace Leasehold.Checkers.Causal;

/// <summary>
/// Convergence (CCv): causal order ∪ conflict order must be acyclic, i.e. one order of every key's writes,
/// consistent with causality, explains every read. Conflict edges go from each write a read had in its causal
/// past to the write it read (only the latest per chain, and only those not already ordered by causal order:
/// an edge causal order implies closes no new cycle, and a conflict against causal order is a WriteCORead,
/// reported already). Another Kahn sweep over the nodes the causal sweep reached; what it leaves unreached
/// holds the cycles.
/// </summary>
internal static class ConvergenceCheck
{
    public static void Run(CausalGraph g, CausalOrderSweep sweep, CausalAnomalyLog log, CausalExplainer explain, PathFinder paths, int budget)
    {
        if (sweep.ConflictEdges.Count == 0) return;
        var cf = new Csr(g.Nodes, sweep.ConflictEdges);
        Csr[] layers = [g.Co, cf];
        int n = g.Nodes;
        bool Reached(int v) => sweep.Topo[v] >= 0;
        var inDegree = new int[n];
        foreach (var layer in layers)
            for (int u = 0; u < n; u++)
                if (Reached(u))
                    foreach (int v in layer.Targets(u))
                        if (Reached(v)) inDegree[v]++;
        var queue = new int[n];
        int head = 0, tail = 0;
        for (int u = 0; u < n; u++)
            if (Reached(u) && inDegree[u] == 0) queue[tail++] = u;
        while (head < tail)
        {
            int u = queue[head++];
            foreach (var layer in layers)
                foreach (int v in layer.Targets(u))
                    if (Reached(v) && --inDegree[v] == 0) queue[tail++] = v;
        }
        if (tail == sweep.Reached) return;
        var unreached = new bool[n];
        for (int v = 0; v < n; v++) unreached[v] = Reached(v) && inDegree[v] > 0;
        CycleReport.Report(layers, unreached, CausalAnomalyKinds.CyclicCF, "conflict order ∪ causal order", log, explain, paths, budget);
    }
}
