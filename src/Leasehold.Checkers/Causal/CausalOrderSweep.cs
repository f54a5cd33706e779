namespace Leasehold.Checkers.Causal;

/// <summary>
/// One pass over the causal-order graph in topological order (Kahn's algorithm), computing each node's vector
/// clock and checking every read against it as the node is reached: at that point every write the read could
/// have seen, and every write in its causal past, has its clock.
/// <para>
/// A node's clock starts as the join of its session predecessors' (pushed into an accumulator as each is
/// done), and each read in program order joins the clock of the write it read, so the clock at a read is
/// exactly its causal past, not its whole function's. A read of key k then has, per chain c that wrote k, one
/// candidate: the latest write of k on c at or before the clock's entry c (<see cref="WriteIndex"/>). Later
/// writes on the chain are not in the past; earlier ones precede the candidate, so they add no violation the
/// candidate does not already show. Reading w1 is <see cref="CausalAnomalyKinds.WriteCORead"/> when some
/// candidate w2 ≠ w1 has w1 →CO w2, which the clocks decide in O(1): w2's clock at w1's chain covers w1's
/// position. Reading the initial value is <see cref="CausalAnomalyKinds.WriteCOInitRead"/> when any candidate
/// exists. Under convergence each candidate concurrent with w1 gives a conflict edge w2 → w1.
/// </para>
/// <para>
/// Clocks are kept only where needed: every write node's to the end (reads and causal tests need them), other
/// nodes' only until pushed to their successors. Nodes left unreached lie on or after a cycle of causal order.
/// </para>
/// <para>
/// Read-write transactions: a transaction T's commit node gets the join of all its functions' clocks, T's
/// commit clock, kept to the end: other workflows that read a write of T join it, and "w →CO a write of T" for
/// w outside T is a test against it (T's writes are one event, after T's whole snapshot). Inside T, writes keep
/// their own clocks, so the order of T's own writes is the DAG's. A read of T is checked against its own past
/// for T's own writes only, as it is reached; against everything else once T's commit is reached and its
/// snapshot known (<see cref="TransactionSnapshotCheck"/>).
/// </para>
/// </summary>
internal sealed class CausalOrderSweep
{
    private readonly CausalModel _model;
    private readonly CausalGraph _g;
    private readonly WriteIndex _index;
    private readonly CausalAnomalyLog _log;
    private readonly CausalExplainer _explain;
    private readonly bool _convergence;
    private readonly int _pathBudget;
    private readonly VectorClocks _clocks;
    private readonly int[] _writeClock;
    private readonly HashSet<long> _conflictSeen = [];
    private readonly PathFinder _paths;
    /// <summary>Per workflow: the handle of a committed transaction's commit clock once its commit node is reached, else −1.</summary>
    private readonly int[] _commitClock;
    /// <summary>Transaction reads already reported as they were reached (so the snapshot check does not count them again).</summary>
    private readonly HashSet<int> _flagged = [];
    private readonly TransactionSnapshotCheck _transactions;

    public CausalOrderSweep(CausalModel model, CausalGraph graph, WriteIndex index, CausalAnomalyLog log, CausalExplainer explain, PathFinder paths, CausalCheckerOptions options)
    {
        _paths = paths;
        _model = model;
        _g = graph;
        _index = index;
        _log = log;
        _explain = explain;
        _convergence = options.Convergence;
        _pathBudget = options.PathSearchBudget;
        _clocks = new VectorClocks(graph.Chains);
        _writeClock = new int[graph.Writes];
        _commitClock = new int[model.Workflows.Count];
        Array.Fill(_commitClock, -1);
        _transactions = new TransactionSnapshotCheck(model, graph, log, explain, this);
        Topo = new int[graph.Nodes];
        Array.Fill(Topo, -1);
    }

    /// <summary>Each node's place in the topological order, or −1 if it was never reached (on or after a cycle).</summary>
    public int[] Topo { get; }

    public int Reached { get; private set; }

    /// <summary>Conflict edges for convergence: node of the earlier write → node of the later, each once.</summary>
    public EdgeBuffer ConflictEdges { get; } = new();

    public List<ConflictWitness> Conflicts { get; } = [];

    public void Run()
    {
        var co = _g.Co;
        int n = _g.Nodes;
        var inDegree = new int[n];
        for (int u = 0; u < n; u++)
            foreach (int v in co.Targets(u)) inDegree[v]++;
        var accumulator = new int[n];
        Array.Fill(accumulator, -1);
        var queue = new int[n];
        int head = 0, tail = 0;
        for (int u = 0; u < n; u++)
            if (inDegree[u] == 0) queue[tail++] = u;
        var clock = new int[_g.Chains];
        while (head < tail)
        {
            int u = queue[head++];
            Topo[u] = Reached++;
            if (accumulator[u] >= 0)
            {
                _clocks[accumulator[u]].CopyTo(clock);
                _clocks.Free(accumulator[u]);
            }
            else Array.Clear(clock);
            if (_g.IsOpNode(u)) RunNode(u, clock);
            else if (_g.IsCommit(u)) Commit(u, clock);
            var targets = co.Targets(u);
            var labels = co.Labels(u);
            for (int i = 0; i < targets.Length; i++)
            {
                int v = targets[i];
                if (labels[i] < 0) // session order carries the clock; reads-from is joined at the read itself
                {
                    if (accumulator[v] < 0)
                    {
                        accumulator[v] = _clocks.Allocate();
                        clock.CopyTo(_clocks[accumulator[v]]);
                    }
                    else VectorClocks.Join(_clocks[accumulator[v]], clock);
                }
                if (--inDegree[v] == 0) queue[tail++] = v;
            }
        }
    }

    private void Commit(int u, int[] clock)
    {
        int tx = _g.CommitWorkflow[u - _g.CommitNodes];
        int h = _clocks.Allocate();
        clock.CopyTo(_clocks[h]);
        _commitClock[tx] = h;
        _transactions.Check(tx, clock);
    }

    private void RunNode(int u, int[] clock)
    {
        int reader = _model.Functions[_g.NodeFunction[u]].Workflow;
        bool transaction = _g.WorkflowCommit[reader] >= 0;
        for (int o = _g.NodeFirstOp[u]; o < _g.NodeEndOp[u]; o++)
        {
            if (_model.Ops[o].IsWrite)
            {
                // The node's one write, its last op: its clock is the node's, with its own position.
                int w = _g.OpWrite[o];
                clock[_g.WriteChain[w]] = _g.WritePos[w];
                int h = _clocks.Allocate();
                clock.CopyTo(_clocks[h]);
                _writeClock[w] = h;
                continue;
            }
            int source = _g.ReadSource[o];
            if (source == ReadSource.Init)
            {
                if (transaction) CheckOwnWrites(o, -1, clock, reader);
                else CheckInitRead(o, clock);
            }
            else if (source >= 0)
            {
                // A write already in the past brings its whole past with it (pasts are downward closed; a transaction's
                // write enters only with its commit clock): skip the O(C) join.
                if (clock[_g.WriteChain[source]] < _g.WritePos[source]) VectorClocks.Join(clock, SourceClock(source, reader));
                if (transaction) CheckOwnWrites(o, source, clock, reader);
                else CheckRead(o, source, clock);
            }
            // Thin-air and aborted reads were reported already; they have no writer to order.
        }
    }

    /// <summary>What a read of <paramref name="write"/> by <paramref name="reader"/> brings into its past: a transaction's whole commit, to others.</summary>
    private Span<int> SourceClock(int write, int reader) => _clocks[ClockOf(write, reader)];

    /// <summary>The clock that orders <paramref name="write"/> for ops of workflow <paramref name="viewer"/>.</summary>
    private int ClockOf(int write, int viewer)
    {
        int t = _g.TransactionOf(write);
        return t >= 0 && t != viewer ? _commitClock[t] : _writeClock[write];
    }

    /// <summary>
    /// Write <paramref name="a"/> →CO write <paramref name="b"/> (both reached; when <paramref name="b"/> is a transaction's
    /// and <paramref name="a"/> is not, that transaction's commit reached). Outside the transaction, a write of T is after
    /// T's whole snapshot; inside it, after what precedes it in T's DAG.
    /// </summary>
    internal bool Before(int a, int b)
    {
        int ca = _g.WriteChain[a];
        if (ca == _g.WriteChain[b]) return _g.WritePos[a] < _g.WritePos[b];
        return _clocks[ClockOf(b, _g.WriteWorkflow[a])][ca] >= _g.WritePos[a];
    }

    internal bool Flagged(int read) => _flagged.Contains(read);

    /// <summary>
    /// A read of transaction <paramref name="tx"/>, as it is reached, against T's own writes of the key in its past (the
    /// rest waits for T's snapshot): reading an own write w1 that a later own write overwrote (WriteCORead), or an outside
    /// write or the initial value (<paramref name="w1"/> −1) although T wrote the key before the read (a transaction reads
    /// its own writes, and whatever it read from outside is before its commit, hence before its writes).
    /// </summary>
    private void CheckOwnWrites(int read, int w1, int[] past, int tx)
    {
        var (from, to) = _index.Ranges(_model.Ops[read].Key);
        bool own = w1 >= 0 && _g.WriteWorkflow[w1] == tx;
        for (int r = from; r < to; r++)
        {
            int bound = past[_index.Chain(r)];
            if (bound == 0) continue;
            int w2 = _index.LatestAtOrBefore(r, bound);
            if (w2 < 0 || w2 == w1 || _g.WriteWorkflow[w2] != tx) continue;
            if (own && !Before(w1, w2)) continue;
            _flagged.Add(read);
            if (own) ReportOverwritten(read, w1, w2, past);
            else
            {
                int mine = w2;
                _log.Add(w1 < 0 ? CausalAnomalyKinds.WriteCOInitRead : CausalAnomalyKinds.WriteCORead, () =>
                {
                    var path = PathToRead(_g.WriteNode[mine], read, past);
                    string got = w1 < 0 ? "the initial value" : _explain.WriteText(w1);
                    return ($"{_explain.Op(read)} of {_explain.FunctionInContext(_model.OpFunction[read])} read {got}, but its own transaction W{_model.Workflows[tx].Id} " +
                            $"wrote {_explain.WriteText(mine)} before the read: a read-write transaction reads its own writes (what it reads from its snapshot precedes its commit, so its writes)\n" +
                            _explain.Path(path),
                            [_model.OpFunction[read], .. w1 >= 0 ? [_model.OpFunction[_g.WriteOp[w1]]] : Array.Empty<int>(), .. _explain.Functions(path)]);
                });
            }
            return;
        }
    }

    private void CheckInitRead(int read, int[] past)
    {
        var (from, to) = _index.Ranges(_model.Ops[read].Key);
        for (int r = from; r < to; r++)
        {
            int bound = past[_index.Chain(r)];
            if (bound == 0) continue;
            int w = _index.LatestAtOrBefore(r, bound);
            if (w < 0) continue;
            int first = r;
            _log.Add(CausalAnomalyKinds.WriteCOInitRead, () =>
            {
                int shown = NearestCandidate(read, first, to, past);
                var path = PathToRead(_g.WriteNode[shown], read, past);
                return ($"{_explain.Op(read)} of {_explain.FunctionInContext(_model.OpFunction[read])} read the initial value, " +
                        $"but {_explain.WriteText(shown)} is in its causal past:\n{_explain.Path(path)}",
                        [_model.OpFunction[read], .. _explain.Functions(path)]);
            });
            return;
        }
    }

    /// <summary>
    /// Of the read's candidates in ranges [<paramref name="from"/>, <paramref name="to"/>), the one reached last (nearest the read):
    /// the shortest search for the path an explanation shows, and the most telling path.
    /// </summary>
    private int NearestCandidate(int read, int from, int to, int[] past)
    {
        int best = -1;
        for (int r = from; r < to; r++)
        {
            int bound = past[_index.Chain(r)];
            int w = bound == 0 ? -1 : _index.LatestAtOrBefore(r, bound);
            if (w >= 0 && (best < 0 || Topo[_g.WriteNode[w]] > Topo[_g.WriteNode[best]])) best = w;
        }
        return best >= 0 ? best : throw new InvalidOperationException($"op {read} has no candidate to show");
    }

    private void CheckRead(int read, int w1, int[] past)
    {
        int witness = Overwriter(read, w1, past);
        if (witness >= 0) ReportOverwritten(read, w1, witness, past);
    }

    /// <summary>
    /// A candidate of the read's key within <paramref name="past"/> that overwrote <paramref name="w1"/> (w1 →CO it; for w1 = −1,
    /// the initial value, any candidate), or −1. Under convergence, every candidate concurrent with w1 gives a conflict edge.
    /// </summary>
    internal int Overwriter(int read, int w1, ReadOnlySpan<int> past)
    {
        var (from, to) = _index.Ranges(_model.Ops[read].Key);
        // Outside a transaction only its final write of the key exists: its other writes of it do not overwrite that one.
        int outsideOf = w1 >= 0 && _g.TransactionOf(w1) is >= 0 and var t && t != _model.Functions[_model.OpFunction[read]].Workflow ? t : -1;
        int witness = -1;
        for (int r = from; r < to; r++)
        {
            int bound = past[_index.Chain(r)];
            if (bound == 0) continue;
            int w2 = _index.LatestAtOrBefore(r, bound);
            if (w2 < 0 || w2 == w1 || (outsideOf >= 0 && _g.WriteWorkflow[w2] == outsideOf)) continue;
            if (w1 < 0 || Before(w1, w2))
            {
                if (witness < 0) witness = w2;
                if (!_convergence) break;
            }
            else if (_convergence && !Before(w2, w1)) AddConflict(w2, w1, read);
        }
        return witness;
    }

    private void ReportOverwritten(int read, int w1, int w2Found, int[] past)
    {
        _log.Add(CausalAnomalyKinds.WriteCORead, () =>
        {
            var toW2 = PathBetweenWrites(w1, w2Found);
            var toRead = PathToRead(_g.WriteNode[w2Found], read, past);
            return ($"{_explain.Op(read)} of {_explain.FunctionInContext(_model.OpFunction[read])} read {_explain.WriteText(w1)}, " +
                    $"but {_explain.WriteText(w2Found)} overwrote it in the read's causal past: {_explain.WriteText(w1)} →CO {_explain.WriteText(w2Found)}\n" +
                    _explain.Path(toW2) + $"  and {_explain.WriteText(w2Found)} →CO the read\n" + _explain.Path(toRead),
                    [_model.OpFunction[read], _model.OpFunction[_g.WriteOp[w1]], .. _explain.Functions(toW2), .. _explain.Functions(toRead)]);
        });
    }

    /// <summary>
    /// The conflict edge <paramref name="earlier"/> → <paramref name="later"/> between the writes' event nodes (a transaction's
    /// commit), once (the first read that shows it is its witness).
    /// </summary>
    internal void AddConflict(int earlier, int later, int read)
    {
        int from = _g.EventNode(earlier), to = _g.EventNode(later);
        if (from == to) return; // two writes of one transaction: one event, ordered by the transaction itself
        if (!_conflictSeen.Add(((long)from << 32) | (uint)to)) return;
        ConflictEdges.Add(from, to, Conflicts.Count);
        Conflicts.Add(new ConflictWitness(from, to, read, earlier, later));
    }

    // Explanations: shortest paths through reached nodes no later than the target, skipping writes outside the
    // target's past (a clock test), so the search stays small.

    /// <summary>A path for w1 →CO w2; when w2 is another transaction's write, to that transaction's commit (w1 is in its snapshot).</summary>
    internal List<PathStep>? PathBetweenWrites(int w1, int w2)
    {
        int t = _g.TransactionOf(w2);
        bool commit = t >= 0 && t != _g.WriteWorkflow[w1];
        var past = _clocks[ClockOf(w2, _g.WriteWorkflow[w1])].ToArray();
        int target = commit ? _g.WorkflowCommit[t] : _g.WriteNode[w2], bound = Topo[target];
        return Paths.Find([_g.Co], _g.WriteNode[w1], target, v => InPast(v, bound, past), null, _pathBudget);
    }

    /// <summary>A path from a node to transaction <paramref name="tx"/>'s commit, through its commit clock's past.</summary>
    internal List<PathStep>? PathToCommit(int fromNode, int tx)
    {
        var past = _clocks[_commitClock[tx]].ToArray();
        int target = _g.WorkflowCommit[tx], bound = Topo[target];
        return Paths.Find([_g.Co], fromNode, target, v => InPast(v, bound, past), null, _pathBudget);
    }

    private List<PathStep>? PathToRead(int fromNode, int read, int[] pastOfRead)
    {
        var past = (int[])pastOfRead.Clone();
        int target = ReaderNode(read), bound = Topo[target] < 0 ? int.MaxValue : Topo[target];
        // Into the reader's node, an edge must reach the read: session order (to its first op) or a read no later than it.
        return Paths.Find([_g.Co], fromNode, target, v => InPast(v, bound, past), (_, label) => label < 0 || label <= read, _pathBudget);
    }

    private bool InPast(int v, int bound, int[] past)
    {
        // The reader's own node is still being processed (Topo already set), every other candidate is reached.
        if (Topo[v] < 0 || Topo[v] > bound) return false;
        int w = _g.NodeWrite.Length > v ? _g.NodeWrite[v] : -1;
        return w < 0 || past[_g.WriteChain[w]] >= _g.WritePos[w];
    }

    private int ReaderNode(int read)
    {
        int f = _model.OpFunction[read];
        int first = _g.FunctionFirstNode[f];
        for (int n = first; n < first + _g.FunctionNodeCount[f]; n++)
            if (read >= _g.NodeFirstOp[n] && read < _g.NodeEndOp[n]) return n;
        throw new InvalidOperationException($"op {read} is in no node of its function");
    }

    private PathFinder Paths => _paths;
}
