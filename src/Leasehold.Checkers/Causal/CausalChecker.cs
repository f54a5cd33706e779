using Leasehold.Checkers.Histories;

namespace Leasehold.Checkers.Causal;

/// <summary>
/// Checks a causal-mode history (one record per function execution, written values unique per key) for
/// causal consistency, CC, and optionally convergence, CCv, by the bad patterns of Bouajjani, Enea,
/// Guerraoui and Hamza (POPL '17): a read of a value nobody wrote (ThinAirRead) or an aborted workflow wrote
/// (AbortedRead); a cycle in causal order CO = (session order ∪ reads-from)⁺ (CyclicCO); a read of the
/// initial value although a write of the key is in its causal past (WriteCOInitRead); a read of w1 although
/// w1 →CO w2 →CO the read (WriteCORead); and, for convergence, a cycle in conflict order ∪ CO (CyclicCF).
/// Session order: program order inside a function, parent → child inside a workflow, and every function of a
/// process's workflow seq n before every function of its seq n + 1.
/// <para>
/// No transitive closure: the graph's nodes (runs of a function's ops ending in a write, see
/// <see cref="CausalGraph"/>) are decomposed into C chains, one per (process, lane), and Kahn's algorithm gives
/// every node a vector clock over chains, so "is w in the causal past of r" is one comparison and each read
/// needs one binary search per chain that wrote its key (<see cref="CausalOrderSweep"/>). With N nodes, E
/// edges, R reads and W written ops: time O((N + E)·C + R·C·log N), memory O(W·C) for the clocks kept (write
/// nodes only, plus the sweep's frontier) and O(N + E) for the graph. C = processes × the widest workflow.
/// Convergence adds at most R·C conflict edges and one more linear sweep.
/// </para>
/// <para>
/// Read-write transactions (workflows whose records say <c>"txn":true</c>; transactional causal consistency, TCC):
/// a transaction's writes become visible together at its commit, one extra node after all its functions that
/// others read its writes from, so for everyone else its writes are one event with its whole snapshot in its past;
/// only each key's final write is ever visible (IntermediateRead otherwise); every read of the transaction, in any
/// function, is checked against the one snapshot of all its reads (FracturedRead, NonSnapshotRead; see
/// <see cref="TransactionSnapshotCheck"/>); inside it, reads see its own writes (WriteCORead, WriteCOInitRead).
/// For X transactions with R_X reads and W_X writes this adds X nodes, one edge per transaction function, O(X·C)
/// memory for their commit clocks and O(W_X) for the final-write table, and O(X·C + R_X·C·log N) time: the bound
/// above still holds with N, E and R counting them, and no two transactions are ever compared pairwise. Only a read
/// found wrong pays more: O(D) to tell a fractured read from a non-snapshot one, D the transactions its reader read
/// from (at most its reads).
/// </para>
/// </summary>
public sealed class CausalChecker(CausalCheckerOptions? options = null)
{
    private readonly CausalCheckerOptions _options = options ?? new CausalCheckerOptions();

    /// <exception cref="HistoryFormatException">the history cannot be checked (the message names the line)</exception>
    public CausalCheckResult Check(ICausalHistorySource history)
    {
        var model = CausalModelLoader.Load(history.Read());
        var graph = CausalGraphBuilder.Build(model);
        long clockBytes = (long)graph.Chains * graph.Writes * sizeof(int);
        if (clockBytes > _options.MaxVectorClockBytes)
            throw new HistoryFormatException(0,
                $"{graph.Chains:N0} chains (processes × widest workflow) × {graph.Writes:N0} writes would need {clockBytes / (1 << 20):N0} MiB of vector clocks " +
                $"(limit {_options.MaxVectorClockBytes / (1 << 20):N0} MiB): record the workload with a bounded set of client sessions, not one process per workflow");
        var log = new CausalAnomalyLog(_options.ExamplesPerKind);
        var explain = new CausalExplainer(model, graph);
        ReportUnattributedReads(model, graph, log, explain);

        var index = new WriteIndex(graph, model.Ops, model.Keys.Count);
        var paths = new PathFinder(graph.Nodes, _options.ExplanationBudget);
        var sweep = new CausalOrderSweep(model, graph, index, log, explain, paths, _options);
        sweep.Run();
        explain.Conflicts = sweep.Conflicts;
        if (sweep.Reached < graph.Nodes)
        {
            var unreached = sweep.Topo.Select(t => t < 0).ToArray();
            CycleReport.Report([graph.Co], unreached, CausalAnomalyKinds.CyclicCO, "session order ∪ reads-from", log, explain, paths, _options.PathSearchBudget);
        }
        if (_options.Convergence) ConvergenceCheck.Run(graph, sweep, log, explain, paths, _options.PathSearchBudget);

        long ops = 0, reads = 0;
        for (int f = 0; f < model.Functions.Count; f++)
        {
            if (!model.Committed(f)) continue;
            var fn = model.Functions[f];
            ops += fn.OpCount;
            for (int o = fn.FirstOp; o < fn.FirstOp + fn.OpCount; o++)
                if (!model.Ops[o].IsWrite) reads++;
        }
        return new CausalCheckResult
        {
            Valid = log.Total == 0,
            Convergence = _options.Convergence,
            Workflows = model.Workflows.Count(w => !w.Aborted),
            Transactions = graph.CommitWorkflow.Length,
            AbortedWorkflows = model.Workflows.Count(w => w.Aborted),
            Functions = model.RecordedFunctions,
            MissingFunctions = model.Functions.Count(f => !f.Recorded),
            Ops = ops,
            Reads = reads,
            Writes = graph.Writes,
            Chains = graph.Chains,
            Nodes = graph.Nodes,
            Edges = graph.Co.Edges,
            ConflictEdges = sweep.ConflictEdges.Count,
            Counts = log.Counts,
            Examples = [.. log.Examples.Select(e => new CausalAnomaly(e.Kind, e.Explanation,
                [.. e.Functions.Select(model.Record).OfType<CausalRecord>().Take(16)]))],
        };
    }

    /// <summary>Reads with no committed write to attribute them to: the value was never written, or only by an aborted workflow.</summary>
    private static void ReportUnattributedReads(CausalModel model, CausalGraph graph, CausalAnomalyLog log, CausalExplainer explain)
    {
        for (int o = 0; o < graph.ReadSource.Length; o++)
        {
            int read = o;
            switch (graph.ReadSource[o])
            {
                case ReadSource.ThinAir:
                    log.Add(CausalAnomalyKinds.ThinAirRead, () =>
                        ($"{explain.Op(read)} of {explain.FunctionInContext(model.OpFunction[read])} read {model.Ops[read].Value}, which nobody wrote to key {model.Keys[model.Ops[read].Key]}",
                         [model.OpFunction[read]]));
                    break;
                case ReadSource.Intermediate:
                    log.Add(CausalAnomalyKinds.IntermediateRead, () =>
                    {
                        var op = model.Ops[read];
                        int writer = model.WriterOp[(op.Key, op.Value)];
                        int wf = model.Functions[model.OpFunction[writer]].Workflow;
                        int final = graph.WriteOp[graph.FinalWrite(wf, op.Key)];
                        return ($"{explain.Op(read)} of {explain.FunctionInContext(model.OpFunction[read])} read {explain.Op(writer)}, a write of read-write transaction " +
                                $"W{model.Workflows[wf].Id} that the transaction itself overwrote with {explain.Op(final)} before committing: only a key's final write becomes visible",
                                [model.OpFunction[read], model.OpFunction[writer], model.OpFunction[final]]);
                    });
                    break;
                case ReadSource.Aborted:
                    log.Add(CausalAnomalyKinds.AbortedRead, () =>
                    {
                        var op = model.Ops[read];
                        int writer = model.WriterOp[(op.Key, op.Value)];
                        int wf = model.Functions[model.OpFunction[writer]].Workflow;
                        int failed = model.Workflows[wf].Functions.First(f => !model.Functions[f].Ok);
                        return ($"{explain.Op(read)} of {explain.FunctionInContext(model.OpFunction[read])} read {explain.Op(writer)}, a write of workflow W{model.Workflows[wf].Id}, " +
                                $"which aborted ({explain.FunctionInContext(failed)} failed): none of its writes may be seen",
                                [model.OpFunction[read], model.OpFunction[writer], failed]);
                    });
                    break;
            }
        }
    }
}
