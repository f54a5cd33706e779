namespace Leasehold.Checkers.Causal;

/// <summary>
/// Transactional causal consistency for one committed read-write transaction T, run when the sweep reaches T's
/// commit node. T's snapshot S is its commit clock with T's own writes taken out: T's session past and the
/// causal past of every write any of T's reads returned (a transaction's write counting with its whole commit),
/// i.e. the smallest causal cut holding all T's reads. Every read of T that did not return T's own write — in
/// any function, parallel branches and later functions alike — must return, from S, a write of its key that no
/// other write of the key in S overwrote (or the initial value, when S has none):
/// <list type="bullet">
/// <item><see cref="CausalAnomalyKinds.FracturedRead"/>: it returned w1 (or the initial value) although T read some
/// write of transaction U, and U's final write of the key is after w1 (U's writes are visible together).</item>
/// <item><see cref="CausalAnomalyKinds.NonSnapshotRead"/>: otherwise, some write w of the key in S has w1 →CO w.</item>
/// </list>
/// This is the sweep's read check with S as the read's past, so the same argument bounds it: per chain that
/// wrote the key, only the latest write of it within S can matter. Reads T's own past already showed wrong (its
/// own writes, checked as they were reached) are not counted again.
/// <para>
/// Cost, for T with r reads, o ops and a commit clock of width C: O(C + o) to build S, O(C_k·log N) a read
/// for the chains C_k ≤ C that wrote its key (as for any read), so the whole check adds O(X·C + R_X·C·log N)
/// for X transactions with R_X reads in all — linear in the history, no pair of transactions compared. Telling a
/// fractured read from a non-snapshot one tests, for reads already found wrong only, each transaction T read from
/// directly: O(D_T) a wrong read, D_T ≤ T's reads.
/// </para>
/// </summary>
internal sealed class TransactionSnapshotCheck(
    CausalModel model, CausalGraph g, CausalAnomalyLog log, CausalExplainer explain, CausalOrderSweep sweep)
{
    private readonly int[] _snapshot = new int[g.Chains];
    /// <summary>Per workflow: 1 + the last transaction that read from it (a stamp, so no set is cleared per transaction).</summary>
    private readonly int[] _readBy = new int[model.Workflows.Count];
    /// <summary>The transactions the current one read a write of.</summary>
    private readonly List<int> _sources = [];

    public void Check(int tx, ReadOnlySpan<int> commitClock)
    {
        commitClock.CopyTo(_snapshot);
        _sources.Clear();
        var functions = model.Workflows[tx].Functions;
        foreach (int f in functions)
            for (int o = model.Functions[f].FirstOp, end = o + model.Functions[f].OpCount; o < end; o++)
            {
                int write = g.OpWrite[o];
                if (write >= 0)
                {
                    // T's writes on a chain are consecutive (a lane serves one workflow at a time): cap the chain before the first.
                    int c = g.WriteChain[write];
                    _snapshot[c] = Math.Min(_snapshot[c], g.WritePos[write] - 1);
                    continue;
                }
                int source = g.ReadSource[o];
                if (source >= 0 && g.TransactionOf(source) is >= 0 and var u && u != tx && _readBy[u] != tx + 1)
                {
                    _readBy[u] = tx + 1;
                    _sources.Add(u);
                }
            }
        foreach (int f in functions)
            for (int o = model.Functions[f].FirstOp, end = o + model.Functions[f].OpCount; o < end; o++)
            {
                int source = g.ReadSource[o];
                bool fromSnapshot = source == ReadSource.Init || (source >= 0 && g.WriteWorkflow[source] != tx);
                if (fromSnapshot && !sweep.Flagged(o)) CheckRead(tx, o, source >= 0 ? source : -1);
            }
    }

    /// <param name="w1">the write the read returned, or −1 for the initial value</param>
    private void CheckRead(int tx, int read, int w1)
    {
        int key = model.Ops[read].Key;
        int witness = sweep.Overwriter(read, w1, _snapshot);
        if (witness < 0) return;
        int fractured = FracturedBy(key, w1);
        if (fractured >= 0) ReportFractured(tx, read, w1, fractured);
        else ReportNonSnapshot(tx, read, w1, witness);
    }

    /// <summary>A transaction T read from that wrote the key after <paramref name="w1"/> (or at all, for the initial value), or −1.</summary>
    private int FracturedBy(int key, int w1)
    {
        foreach (int u in _sources)
        {
            int final = g.FinalWrite(u, key);
            if (final >= 0 && final != w1 && (w1 < 0 || sweep.Before(w1, final))) return u;
        }
        return -1;
    }

    private void ReportFractured(int tx, int read, int w1, int u)
    {
        log.Add(CausalAnomalyKinds.FracturedRead, () =>
        {
            int final = g.FinalWrite(u, model.Ops[read].Key);
            int seen = FirstReadOf(tx, u);
            var path = w1 >= 0 ? sweep.PathBetweenWrites(w1, final) : null;
            return ($"{explain.Op(read)} of {explain.FunctionInContext(model.OpFunction[read])} read {Got(w1)}, but its transaction W{model.Workflows[tx].Id} " +
                    $"also read {explain.WriteText(g.ReadSource[seen])} ({explain.Op(seen)}), a write of read-write transaction W{model.Workflows[u].Id}, " +
                    $"whose writes become visible together at its commit: so it must see {explain.WriteText(final)} or a later write of the key, " +
                    (w1 < 0 ? "not the initial value\n" : $"and {explain.WriteText(w1)} is older: it →CO W{model.Workflows[u].Id}'s commit\n{explain.Path(path)}"),
                    [model.OpFunction[read], model.OpFunction[seen], model.OpFunction[g.WriteOp[final]],
                     .. w1 >= 0 ? [model.OpFunction[g.WriteOp[w1]]] : Array.Empty<int>(), .. explain.Functions(path)]);
        });
    }

    private void ReportNonSnapshot(int tx, int read, int w1, int w2)
    {
        log.Add(CausalAnomalyKinds.NonSnapshotRead, () =>
        {
            var overwrite = w1 >= 0 ? sweep.PathBetweenWrites(w1, w2) : null;
            var intoSnapshot = sweep.PathToCommit(g.WriteNode[w2], tx);
            return ($"{explain.Op(read)} of {explain.FunctionInContext(model.OpFunction[read])} read {Got(w1)}, but {explain.WriteText(w2)} " +
                    $"{(w1 >= 0 ? "overwrote it" : "wrote the key")} in the snapshot of its read-write transaction W{model.Workflows[tx].Id}: every read of a transaction, " +
                    "in every function, comes from one causal cut, the causal past of all of them and of the session\n" +
                    (w1 >= 0 ? $"  {explain.WriteText(w1)} →CO {explain.WriteText(w2)}\n{explain.Path(overwrite)}" : "") +
                    $"  and {explain.WriteText(w2)} is in the snapshot: it →CO the transaction's commit\n{explain.Path(intoSnapshot)}",
                    [model.OpFunction[read], model.OpFunction[g.WriteOp[w2]], .. w1 >= 0 ? [model.OpFunction[g.WriteOp[w1]]] : Array.Empty<int>(),
                     .. explain.Functions(overwrite), .. explain.Functions(intoSnapshot)]);
        });
    }

    private string Got(int w1) => w1 < 0 ? "the initial value" : explain.WriteText(w1);

    /// <summary>T's first read of a write of transaction <paramref name="u"/> (explanations only).</summary>
    private int FirstReadOf(int tx, int u)
    {
        foreach (int f in model.Workflows[tx].Functions)
            for (int o = model.Functions[f].FirstOp, end = o + model.Functions[f].OpCount; o < end; o++)
                if (g.ReadSource[o] >= 0 && g.WriteWorkflow[g.ReadSource[o]] == u) return o;
        throw new InvalidOperationException($"W{model.Workflows[tx].Id} read nothing of W{model.Workflows[u].Id}");
    }
}
