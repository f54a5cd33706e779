namespace Leasehold.Checkers.Causal;

/// <summary>
/// Reports the cycles among nodes a topological sweep left unreached: each strongly connected component
/// is one violation, explained by its shortest cycle through one member. (Unreached nodes that are on no
/// cycle merely come after one; they are not reported.)
/// </summary>
internal static class CycleReport
{
    public static void Report(Csr[] layers, bool[] unreached, string kind, string what, CausalAnomalyLog log, CausalExplainer explain, PathFinder paths, int budget)
    {
        var roots = Enumerable.Range(0, unreached.Length).Where(v => unreached[v]);
        var components = LayeredTarjan.Cycles(layers, roots, v => unreached[v]);
        if (components.Count == 0) return;
        var member = new int[unreached.Length];
        Array.Fill(member, -1);
        for (int c = 0; c < components.Count; c++)
        {
            var component = components[c];
            foreach (int v in component) member[v] = c;
            int id = c;
            log.Add(kind, () =>
            {
                int start = component.Min();
                var cycle = paths.Find(layers, start, start, v => member[v] == id, null, budget);
                return ($"a cycle in {what} ({(component.Length == 1 ? "one node" : $"{component.Length} nodes")} in its strongly connected component), so no order of these operations explains what was read:\n{explain.Path(cycle)}",
                        explain.Functions(cycle));
            });
        }
    }
}
