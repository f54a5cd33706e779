using System.Text;

namespace Leasehold.Checkers.Causal;

/// <summary>
/// A conflict edge's reason: the read that saw write <c>Later</c> with write <c>Earlier</c> of the key in its causal past.
/// <c>From</c> and <c>To</c> are the writes' event nodes (a transaction's commit node for its writes).
/// </summary>
internal readonly record struct ConflictWitness(int From, int To, int ReadOp, int Earlier, int Later);

/// <summary>
/// Words for explanations: a function is <c>W17/f2</c> (workflow 17, function index 2), an op is
/// <c>W17/f2 op 1 w(k2)=42</c>, and a path is one line per edge saying why it is there.
/// </summary>
internal sealed class CausalExplainer(CausalModel model, CausalGraph graph)
{
    /// <summary>At most this many edges of a path are written out; the middle of a longer one is elided.</summary>
    private const int MaxSteps = 24;

    public IReadOnlyList<ConflictWitness> Conflicts { get; set; } = [];

    public string Function(int f)
    {
        var fn = model.Functions[f];
        return $"W{model.Workflows[fn.Workflow].Id}/f{fn.Index}";
    }

    /// <summary>The function with where it is in its session and in the file.</summary>
    public string FunctionInContext(int f)
    {
        var fn = model.Functions[f];
        var w = model.Workflows[fn.Workflow];
        string where = !fn.Recorded ? ", not recorded" : fn.Line > 0 ? $", line {fn.Line}" : "";
        return $"{Function(f)} (process {w.Process}, seq {w.Seq}{where})";
    }

    public string Op(int op)
    {
        int f = model.OpFunction[op];
        return $"{Function(f)} op {op - model.Functions[f].FirstOp} {OpText(op)}";
    }

    public string OpText(int op)
    {
        var o = model.Ops[op];
        string key = model.Keys[o.Key];
        return o.IsWrite ? $"w({key})={o.Value}" : $"r({key})={(o.Init ? "init" : o.Value.ToString(System.Globalization.CultureInfo.InvariantCulture))}";
    }

    public string WriteText(int write) => Op(graph.WriteOp[write]);

    /// <summary>The functions a path passes through (placeholders, barriers and commits left out), for the records shown.</summary>
    public IEnumerable<int> Functions(IEnumerable<PathStep>? path)
    {
        if (path is null) yield break;
        foreach (var s in path)
        {
            if (graph.IsOpNode(s.From)) yield return graph.NodeFunction[s.From];
            if (graph.IsOpNode(s.To)) yield return graph.NodeFunction[s.To];
            if (s.Layer == 1) yield return model.OpFunction[Conflicts[s.Label].ReadOp];
        }
    }

    /// <summary>One line per edge, indented; a barrier's two edges make one "session" line.</summary>
    public string Path(List<PathStep>? path)
    {
        if (path is null) return "    (path not shown: the search for it ran out of its budget)\n";
        var lines = new List<string>();
        for (int i = 0; i < path.Count; i++)
        {
            var s = path[i];
            if (s.Layer == 0 && s.Label == EdgeLabel.IntoBarrier && i + 1 < path.Count)
            {
                var next = path[++i];
                var w = model.Workflows[graph.BarrierWorkflow[s.To - graph.OpNodes]];
                lines.Add($"{Node(s.From, last: true)} → {Node(next.To, last: false)} (session: process {w.Process}'s seq {w.Seq} completed before its next workflow began)");
                continue;
            }
            lines.Add(Step(s));
        }
        var sb = new StringBuilder();
        for (int i = 0; i < lines.Count; i++)
        {
            if (lines.Count > MaxSteps && i == MaxSteps / 2)
            {
                sb.Append("    … ").Append(lines.Count - MaxSteps).Append(" more edges …\n");
                i = lines.Count - MaxSteps / 2;
            }
            sb.Append("    ").Append(lines[i]).Append('\n');
        }
        return sb.ToString();
    }

    private string Step(PathStep s)
    {
        if (s.Layer == 1)
        {
            var c = Conflicts[s.Label];
            string earlier = Node(s.From, last: true), later = Node(s.To, last: true);
            return $"{earlier} → {later} (conflict: {Op(c.ReadOp)} read {OpText(graph.WriteOp[c.Later])} with {OpText(graph.WriteOp[c.Earlier])} in its causal past, so that write is ordered first)";
        }
        switch (s.Label)
        {
            case EdgeLabel.ProgramOrder:
                return $"{Node(s.From, last: true)} → {Node(s.To, last: false)} (program order)";
            case EdgeLabel.IntoCommit:
                return $"{Node(s.From, last: true)} → {Node(s.To, last: false)} (a transaction commits after all its functions)";
            case EdgeLabel.Parent:
                return $"{Function(graph.NodeFunction[s.From])} → {Function(graph.NodeFunction[s.To])} (parent → child)";
            case EdgeLabel.IntoBarrier:
            case EdgeLabel.OutOfBarrier:
                // A path that starts or ends at a barrier (not produced today): say what the barrier is.
                int b = graph.IsBarrier(s.From) ? s.From : s.To;
                var w = model.Workflows[graph.BarrierWorkflow[b - graph.OpNodes]];
                return $"{(graph.IsBarrier(s.From) ? $"end of W{w.Id}" : Node(s.From, true))} → {(graph.IsBarrier(s.To) ? $"end of W{w.Id}" : Node(s.To, false))} (session)";
            default:
                int read = s.Label;
                int write = graph.ReadSource[read];
                if (graph.IsCommit(s.From))
                    return $"{Node(s.From, last: true)} → {Op(read)} (reads from {WriteText(write)}, visible from its transaction's commit with all its other writes)";
                bool backwards = graph.NodeFunction[s.From] == graph.NodeFunction[s.To] && graph.WriteOp[write] > read;
                return $"{WriteText(write)} → {Op(read)} (reads from{(backwards ? ": a write its own function makes later" : "")})";
        }
    }

    /// <summary>
    /// A node by the op an edge leaves from (<paramref name="last"/>: its last op, which is its write if it has one) or
    /// enters at (its first op); an empty node by its function.
    /// </summary>
    private string Node(int node, bool last)
    {
        if (graph.IsBarrier(node)) return $"end of W{model.Workflows[graph.BarrierWorkflow[node - graph.OpNodes]].Id}";
        if (graph.IsCommit(node)) return $"commit of W{model.Workflows[graph.CommitWorkflow[node - graph.CommitNodes]].Id}";
        int f = graph.NodeFunction[node];
        if (graph.NodeFirstOp[node] == graph.NodeEndOp[node]) return Function(f);
        return Op(last ? graph.NodeEndOp[node] - 1 : graph.NodeFirstOp[node]);
    }
}
