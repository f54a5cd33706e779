using Leasehold.Checkers.Histories;

namespace Leasehold.Checkers.ListAppend;

/// <summary>
/// Elle's list-append checker (Kingsbury and Alvaro, VLDB '20). Appended values are unique per key, so
/// every committed read names the exact version it saw and the version order of each key is the
/// longest read of it. Two passes over the history keep memory to the appends and the edges, not the
/// reads: the first indexes every append and finds each key's version order; the second checks every
/// read against both and emits the wr and rw dependencies; then ww edges follow the version orders,
/// Tarjan finds the strongly connected components, and each is reported as its worst cycle.
/// Beyond Elle: a committed append that no read shows still follows every committed read without it
/// (an rw edge), and another transaction's intermediate append must be followed by that transaction's
/// next append in any read (G1b), so stale reads and write skews of appends nobody read are caught.
/// </summary>
public sealed class ListAppendChecker(CheckerOptions? options = null)
{
    private readonly CheckerOptions _options = options ?? new CheckerOptions();

    private struct TxnInfo
    {
        public long InvokeIndex;
        public long CompleteIndex;   // -1 when it never completed
        public OpType Outcome;
        public bool InGraph;         // committed, or unknown but seen to have committed
    }

    /// <summary>
    /// Who appended a value; its place among that transaction's appends to the key (<paramref name="Seq"/>, from 0);
    /// and whether the transaction appended to the key again after it, and what (<paramref name="Next"/>).
    /// </summary>
    private readonly record struct Appender(int Txn, bool Intermediate, int Seq = 0, long Next = 0);

    /// <summary>
    /// A committed transaction's append that no read shows: the first of its appends to the key that is not in
    /// the version order (<paramref name="Value"/>), and the first position of the version order holding one of its earlier appends to
    /// the key (int.MaxValue if none).
    /// </summary>
    private readonly record struct Unread(int Txn, int Slot, int EarlierAt);

    private sealed class KeyOrder(int id, long key)
    {
        public readonly int Id = id;
        public readonly long Key = key;
        public long[] Longest = [];
        public int Reader = -1;
        /// <summary>
        /// The longest read holds a value twice (reported as duplicate-elements): it is no version order, and the ww
        /// and next-append rw edges read off it would be false (an rw edge "without v" from a read that holds v, a ww
        /// cycle from [1 2 1]), so the key gives none of those; wr edges and those to unread appends do not need it.
        /// </summary>
        public bool Duplicated;
        /// <summary>Committed appends to the key that no read shows (see <see cref="Unread"/>).</summary>
        public readonly List<long> UnreadValues = [];
    }

    public CheckResult Check(IHistorySource history)
    {
        var txns = new List<TxnInfo>();
        var appends = new Dictionary<(long Key, long Value), Appender>();
        var orders = new Dictionary<long, KeyOrder>();
        var orderById = new List<KeyOrder>();
        var log = new AnomalyLog(_options.ExamplesPerKind);

        // Pass 1: transactions, the append index, the version order of each key.
        long passOneEvents = 0;
        foreach (var e in TransactionPairer.Events(history.Read()))
        {
            passOneEvents++;
            if (e.IsInvoke) continue;
            while (txns.Count <= e.Txn) txns.Add(default);
            var outcome = e.Outcome;
            txns[e.Txn] = new TxnInfo
            {
                InvokeIndex = e.Invoke.Index,
                CompleteIndex = e.Completion?.Index ?? -1,
                Outcome = outcome,
                InGraph = outcome == OpType.Ok,
            };
            var ops = e.Ops;
            for (int i = 0; i < ops.Length; i++)
            {
                if (ops[i].Kind != MicroOpKind.Append) continue;
                bool intermediate = false;
                long nextValue = 0;
                int seq = 0;
                for (int j = 0; j < i; j++)
                    if (ops[j].Kind == MicroOpKind.Append && ops[j].Key == ops[i].Key) seq++;
                for (int j = i + 1; j < ops.Length && !intermediate; j++)
                    if (ops[j].Kind == MicroOpKind.Append && ops[j].Key == ops[i].Key) { intermediate = true; nextValue = ops[j].Value; }
                var id = (ops[i].Key, ops[i].Value);
                if (appends.TryGetValue(id, out var first))
                {
                    int t = e.Txn, f = first.Txn;
                    log.Add(AnomalyKinds.DuplicateAppends, [f, t], () => $"{Name(txns, f)} and {Name(txns, t)} both append {id.Value} to key {id.Key}; values must be unique per key, so reads of it cannot be attributed");
                    continue;
                }
                appends.Add(id, new Appender(e.Txn, intermediate, seq, nextValue));
            }
            if (outcome != OpType.Ok) continue;
            foreach (var m in ops)
            {
                if (m.Kind != MicroOpKind.Read) continue;
                if (!orders.TryGetValue(m.Key, out var order))
                {
                    orders.Add(m.Key, order = new KeyOrder(orderById.Count, m.Key));
                    orderById.Add(order);
                }
                if (IsPrefix(order.Longest, m.Read!))
                {
                    if (m.Read!.Length > order.Longest.Length || order.Reader < 0)
                    {
                        order.Longest = m.Read;
                        order.Reader = e.Txn;
                    }
                }
                else if (!IsPrefix(m.Read!, order.Longest))
                {
                    int t = e.Txn, other = order.Reader;
                    long key = m.Key;
                    long[] mine = m.Read!, theirs = order.Longest;
                    log.Add(AnomalyKinds.IncompatibleOrder, [other, t], () => $"key {key}: {Name(txns, other)} read {List(theirs)} and {Name(txns, t)} read {List(mine)}; neither is a prefix of the other, so the key has no single version order");
                }
            }
        }

        foreach (var order in orderById)
            order.Duplicated = order.Longest.Length > 1 && new HashSet<long>(order.Longest).Count < order.Longest.Length;

        // Unknown transactions whose appends somebody read did commit: they join the graph.
        foreach (var (key, order) in orders)
            foreach (long v in order.Longest)
                if (appends.TryGetValue((key, v), out var a) && txns[a.Txn].Outcome == OpType.Info)
                {
                    var t = txns[a.Txn];
                    t.InGraph = true;
                    txns[a.Txn] = t;
                }

        // Committed appends that no read shows have no place in the version order, but they are not free: a
        // committed read without one of them was serialized before its transaction (lists only grow). Without
        // this, a stale read or a write skew whose appends nobody reads again checks valid.
        var unread = UnreadAppends(appends, orders, txns);

        // Pass 2: every committed read against the index and the orders; wr, rw and real-time edges.
        var edges = new EdgeList();
        int nodes = txns.Count;
        int lastTimeNode = -1;
        bool invokedSinceTimeNode = false;
        var rmw = new Dictionary<(long Key, int Length), int>();
        long passTwoEvents = 0;
        foreach (var e in TransactionPairer.Events(history.Read()))
        {
            // The passes must read the same history: a pipe reads empty the second time, so every read check and
            // dependency was silently skipped and anything checked valid; a file still being written grows.
            if (++passTwoEvents > passOneEvents || e.Txn >= txns.Count) throw Changed(history, passOneEvents);
            if (e.IsInvoke)
            {
                if (_options.Strict && e.Txn < txns.Count && txns[e.Txn].InGraph && lastTimeNode >= 0)
                {
                    edges.Add(new Edge(lastTimeNode, e.Txn, EdgeKind.RT, 0, 0));
                    invokedSinceTimeNode = true;
                }
                continue;
            }
            if (e.Outcome != OpType.Ok) continue;
            if (_options.Strict)
            {
                // Only a committed completion is a point in real time; an unknown one may commit any time later.
                if (lastTimeNode < 0 || invokedSinceTimeNode)
                {
                    int node = nodes++;
                    if (lastTimeNode >= 0) edges.Add(new Edge(lastTimeNode, node, EdgeKind.RT, 0, 0));
                    lastTimeNode = node;
                    invokedSinceTimeNode = false;
                }
                edges.Add(new Edge(e.Txn, lastTimeNode, EdgeKind.RT, 0, 0));
            }
            CheckReads(e.Txn, e.Ops, txns, appends, orders, unread, rmw, edges, log);
        }

        if (passTwoEvents != passOneEvents) throw Changed(history, passOneEvents);

        // ww edges along each key's version order.
        foreach (var order in orderById)
        {
            if (order.Duplicated) continue;
            long key = order.Key;
            var seen = new HashSet<long>();
            for (int i = 0; i + 1 < order.Longest.Length; i++)
            {
                long v1 = order.Longest[i], v2 = order.Longest[i + 1];
                if (!seen.Add(v1) || v1 == v2) continue; // a duplicate element: reported by the read checks
                if (!appends.TryGetValue((key, v1), out var a) || !appends.TryGetValue((key, v2), out var b)) continue;
                if (a.Txn == b.Txn || !txns[a.Txn].InGraph || !txns[b.Txn].InGraph) continue;
                edges.Add(new Edge(a.Txn, b.Txn, EdgeKind.WW, order.Id, i));
            }
        }

        var graph = new DependencyGraph(txns.Count, nodes, edges);
        FindCycles(graph, txns, orderById, log);

        return new CheckResult
        {
            Valid = log.Total == 0,
            Strict = _options.Strict,
            Committed = txns.Count(t => t.Outcome == OpType.Ok),
            Failed = txns.Count(t => t.Outcome == OpType.Fail),
            Unknown = txns.Count(t => t.Outcome == OpType.Info),
            UnknownObserved = txns.Count(t => t.Outcome == OpType.Info && t.InGraph),
            GraphEdges = edges.Count,
            Counts = log.Counts,
            Examples = Materialize(history, log),
        };
    }

    private static HistoryFormatException Changed(IHistorySource history, long events) =>
        new(0, $"{history.Name} did not read the same on the second pass as on the first ({events} invocations and completions): " +
            "the checker reads a history twice, so give it a regular file that is no longer being written");

    /// <summary>The per-read checks of one committed transaction, and its wr and rw edges.</summary>
    private static void CheckReads(int t, MicroOp[] ops, List<TxnInfo> txns, Dictionary<(long, long), Appender> appends,
        Dictionary<long, KeyOrder> orders, Dictionary<long, List<Unread>> unread, Dictionary<(long, int), int> rmw, EdgeList edges, AnomalyLog log)
    {
        for (int i = 0; i < ops.Length; i++)
        {
            var m = ops[i];
            if (m.Kind != MicroOpKind.Read) continue;
            long key = m.Key;
            long[] read = m.Read!;

            // What this transaction itself did to the key before this read: its last read, then its appends since.
            long[]? earlierRead = null;
            var ownSince = new List<long>();
            bool appendedBefore = false;
            for (int j = 0; j < i; j++)
            {
                if (ops[j].Key != key) continue;
                if (ops[j].Kind == MicroOpKind.Read) { earlierRead = ops[j].Read; ownSince.Clear(); }
                else { ownSince.Add(ops[j].Value); appendedBefore = true; }
            }
            if (earlierRead is not null || ownSince.Count > 0)
            {
                bool consistent = earlierRead is not null
                    ? read.AsSpan().SequenceEqual([.. earlierRead, .. ownSince])
                    : read.Length >= ownSince.Count && read.AsSpan(read.Length - ownSince.Count).SequenceEqual(ownSince.ToArray());
                if (!consistent)
                {
                    long[]? er = earlierRead;
                    long[] own = [.. ownSince];
                    log.Add(AnomalyKinds.Internal, [t], () => $"{Name(txns, t)} read key {key} = {List(read)}, but {(er is not null ? $"it had read {List(er)}" : "it had not read the key")}{(own.Length > 0 ? $" and appended {List(own)}" : "")} before, so it should have seen {(er is not null ? List([.. er, .. own]) : $"a list ending in {List(own)}")}");
                }
            }
            for (int j = i + 1; j < ops.Length; j++)
                if (ops[j].Kind == MicroOpKind.Append && ops[j].Key == key && Array.IndexOf(read, ops[j].Value) >= 0)
                {
                    long v = ops[j].Value;
                    log.Add(AnomalyKinds.FutureRead, [t], () => $"{Name(txns, t)} read key {key} = {List(read)}, which holds {v}, an append the transaction makes only later");
                }

            // Every element: appended by somebody, by a transaction that did not fail, once.
            HashSet<long>? elements = read.Length > 1 ? new HashSet<long>(read.Length) : null;
            foreach (long v in read)
            {
                if (elements is not null && !elements.Add(v))
                {
                    log.Add(AnomalyKinds.DuplicateElements, [t], () => $"{Name(txns, t)} read key {key} = {List(read)}, which holds {v} more than once");
                    continue;
                }
                if (!appends.TryGetValue((key, v), out var a))
                {
                    log.Add(AnomalyKinds.GarbageRead, [t], () => $"{Name(txns, t)} read key {key} = {List(read)}, but nobody appended {v} to key {key}");
                    continue;
                }
                if (txns[a.Txn].Outcome == OpType.Fail)
                {
                    int w = a.Txn;
                    log.Add(AnomalyKinds.G1a, [w, t], () => $"{Name(txns, t)} read key {key} = {List(read)}, which holds {v}, appended by {Name(txns, w)}, which failed (aborted read)");
                }
            }
            // G1b: another transaction's append that it followed with another append to the key must be followed
            // by exactly that one. A read ending there saw the intermediate state; so did a read in which something
            // else follows it (somebody appended to the intermediate state, or the transaction's appends are out of order).
            for (int p = 0; p < read.Length; p++)
            {
                if (!appends.TryGetValue((key, read[p]), out var a) || a.Txn == t || !a.Intermediate) continue;
                if (p + 1 < read.Length && read[p + 1] == a.Next) continue;
                int w = a.Txn;
                long v = read[p];
                string how = p + 1 < read.Length ? $"where {v} is followed by {read[p + 1]}, not by {a.Next}" : $"ending in {v}";
                log.Add(AnomalyKinds.G1b, [w, t], () => $"{Name(txns, t)} read key {key} = {List(read)}, {how}: an intermediate state, since {Name(txns, w)} appended {v} and then {a.Next} to key {key}");
                break;
            }

            var order = orders[key];
            if (!IsPrefix(read, order.Longest)) continue; // incompatible-order, reported in pass 1
            int length = read.Length;

            // Committed appends nobody read follow this read (once per transaction and key: its first read of it).
            // Not when the read shows an earlier append of the same transaction to the key: that read saw an
            // intermediate state, reported above as G1b.
            if (earlierRead is null && unread.TryGetValue(key, out var pending))
                foreach (var u in pending)
                    if (u.Txn != t && length <= u.EarlierAt)
                        edges.Add(new Edge(t, u.Txn, EdgeKind.RW, order.Id, length, u.Slot));

            if (appendedBefore || earlierRead is not null) continue; // not an external read: no dependency of its own
            if (length > 0 && appends.TryGetValue((key, read[length - 1]), out var writer) && writer.Txn != t && txns[writer.Txn].InGraph)
                edges.Add(new Edge(writer.Txn, t, EdgeKind.WR, order.Id, length));
            if (!order.Duplicated && length < order.Longest.Length && appends.TryGetValue((key, order.Longest[length]), out var next) && next.Txn != t && txns[next.Txn].InGraph)
                edges.Add(new Edge(t, next.Txn, EdgeKind.RW, order.Id, length));

            // A read-modify-write: two committed transactions that read the same version and both append lose one update.
            bool appendsLater = false;
            for (int j = i + 1; j < ops.Length; j++) appendsLater |= ops[j].Kind == MicroOpKind.Append && ops[j].Key == key;
            if (appendsLater)
            {
                if (rmw.TryGetValue((key, length), out int other))
                    log.Add(AnomalyKinds.LostUpdate, [other, t], () => $"{Name(txns, other)} and {Name(txns, t)} both read key {key} = {List(read)} and both appended to it: one update is lost");
                else rmw.Add((key, length), t);
            }
        }
    }

    /// <summary>Per key that somebody read: the committed transactions with an append to it outside its version order.</summary>
    private static Dictionary<long, List<Unread>> UnreadAppends(Dictionary<(long Key, long Value), Appender> appends,
        Dictionary<long, KeyOrder> orders, List<TxnInfo> txns)
    {
        var firsts = new Dictionary<(long Key, int Txn), (long Value, int Seq)>();
        var inOrder = new Dictionary<long, HashSet<long>>();
        foreach (var ((key, value), a) in appends)
        {
            if (!txns[a.Txn].InGraph || !orders.TryGetValue(key, out var order)) continue;
            if (!inOrder.TryGetValue(key, out var set)) inOrder.Add(key, set = [.. order.Longest]);
            if (set.Contains(value)) continue;
            if (!firsts.TryGetValue((key, a.Txn), out var f) || a.Seq < f.Seq) firsts[(key, a.Txn)] = (value, a.Seq);
        }
        var result = new Dictionary<long, List<Unread>>();
        foreach (var ((key, txn), (value, seq)) in firsts)
        {
            int earlierAt = int.MaxValue;
            var longest = orders[key].Longest;
            for (int p = 0; p < longest.Length && earlierAt == int.MaxValue; p++)
                if (appends.TryGetValue((key, longest[p]), out var a) && a.Txn == txn && a.Seq < seq) earlierAt = p;
            if (!result.TryGetValue(key, out var list)) result.Add(key, list = []);
            var unreadValues = orders[key].UnreadValues;
            list.Add(new Unread(txn, unreadValues.Count, earlierAt));
            unreadValues.Add(value);
        }
        return result;
    }

    /// <summary>Each strongly connected component is one anomaly: the worst kind of cycle it holds, explained.</summary>
    private void FindCycles(DependencyGraph graph, List<TxnInfo> txns, List<KeyOrder> orders, AnomalyLog log)
    {
        var scc = new StronglyConnected(graph);
        var search = new CycleSearch(graph);
        var component = new int[graph.Nodes];
        EdgeKind all = _options.Strict ? EdgeKind.All : EdgeKind.WW | EdgeKind.WR | EdgeKind.RW;
        var found = scc.Components(Enumerable.Range(0, graph.Nodes), all);
        for (int c = 0; c < found.Count; c++)
        {
            foreach (int n in found[c]) component[n] = c + 1;
            int id = c + 1;
            bool Within(int n) => component[n] == id;
            var cycle = WorstCycle(found[c], scc, search, Within, EdgeKind.WW | EdgeKind.WR | EdgeKind.RW, 0)
                ?? (_options.Strict ? WorstCycle(found[c], scc, search, Within, EdgeKind.WW | EdgeKind.WR | EdgeKind.RW, EdgeKind.RT) : null);
            if (cycle is null) continue; // only time nodes and edges that cannot close: impossible, but never a false report
            var kind = Classify(graph, cycle);
            var members = cycle.Select(i => graph.Edges[i].From).Where(graph.IsTransaction).Distinct().ToArray();
            log.Add(kind, members, () => Explain(graph, txns, orders, cycle, kind));
        }
    }

    /// <summary>In order: a ww-only cycle, a ww+wr one, one with a single rw edge, any; each with <paramref name="extra"/> edges allowed.</summary>
    private List<int>? WorstCycle(int[] members, StronglyConnected scc, CycleSearch search, Func<int, bool> within, EdgeKind data, EdgeKind extra)
    {
        foreach (var mask in new[] { EdgeKind.WW | extra, EdgeKind.WW | EdgeKind.WR | extra })
        {
            foreach (var sub in scc.Components(members, mask, within))
            {
                var set = new HashSet<int>(sub);
                var cycle = search.ShortestCycle(sub, mask, n => set.Contains(n));
                if (cycle is not null) return cycle;
            }
        }
        // The last two searches also run inside the sub-components of the edges they may use: with --strict,
        // real-time edges can make the component large, and a few start nodes picked from all of it may lie on
        // no cycle without real time, so a G2-item was reported as G2-item-realtime (which claims serializable).
        var subs = scc.Components(members, data | extra, within).Select(sub => new HashSet<int>(sub)).ToList();
        foreach (var set in subs)
        {
            var single = search.SingleRwCycle([.. set], EdgeKind.WW | EdgeKind.WR | extra, set.Contains, _options.SingleRwTries);
            if (single is not null) return single;
        }
        foreach (var set in subs)
        {
            var cycle = search.ShortestCycle([.. set], data | extra, set.Contains, starts: 16);
            if (cycle is not null) return cycle;
        }
        return null;
    }

    private static string Classify(DependencyGraph graph, List<int> cycle)
    {
        int rw = 0, wr = 0;
        bool realtime = false;
        foreach (int id in cycle)
        {
            var kind = graph.Edges[id].Kind;
            if (kind == EdgeKind.RW) rw++;
            else if (kind == EdgeKind.WR) wr++;
            else if (kind == EdgeKind.RT) realtime = true;
        }
        string name = rw switch
        {
            0 when wr == 0 => AnomalyKinds.G0,
            0 => AnomalyKinds.G1c,
            1 => AnomalyKinds.GSingle,
            _ => AnomalyKinds.G2Item,
        };
        return realtime ? name + "-realtime" : name;
    }

    /// <summary>Every edge of the cycle in words; a run of real-time edges through time nodes is one "completed before invoked".</summary>
    private static string Explain(DependencyGraph graph, List<TxnInfo> txns, List<KeyOrder> orders, List<int> cycle, string kind)
    {
        // Start the walk at a transaction.
        int start = cycle.FindIndex(i => graph.IsTransaction(graph.Edges[i].From));
        var lines = new List<string>();
        int k = 0;
        while (k < cycle.Count)
        {
            var e = graph.Edges[cycle[(start + k) % cycle.Count]];
            if (e.Kind == EdgeKind.RT)
            {
                int from = e.From;
                while (!graph.IsTransaction(graph.Edges[cycle[(start + k) % cycle.Count]].To)) k++;
                int to = graph.Edges[cycle[(start + k) % cycle.Count]].To;
                lines.Add($"{Name(txns, from)} < {Name(txns, to)} (rt): {Name(txns, from)} completed (index {txns[from].CompleteIndex}) before {Name(txns, to)} was invoked (index {txns[to].InvokeIndex})");
            }
            else
            {
                var order = orders[e.Order];
                string a = Name(txns, e.From), b = Name(txns, e.To);
                lines.Add(e.Kind switch
                {
                    EdgeKind.WW => $"{a} < {b} (ww): on key {order.Key}, {b} appended {order.Longest[e.Position + 1]} right after {a}'s {order.Longest[e.Position]}",
                    EdgeKind.WR => $"{a} < {b} (wr): {b} read key {order.Key} ending in {order.Longest[e.Position - 1]}, which {a} appended",
                    _ when e.Unread >= 0 => $"{a} < {b} (rw): {a} read key {order.Key} at length {e.Position}, without {order.UnreadValues[e.Unread]}, which {b} appended and nobody read",
                    _ => $"{a} < {b} (rw): {a} read key {order.Key} at length {e.Position}, without {order.Longest[e.Position]}, which {b} appended next",
                });
            }
            k++;
        }
        int count = cycle.Select(i => graph.Edges[i].From).Count(graph.IsTransaction);
        return $"{kind} cycle of {count} transactions:\n  " + string.Join("\n  ", lines) + "\n  — a cycle, so no serial order of these transactions" + (kind.EndsWith("-realtime", StringComparison.Ordinal) ? " agrees with the order clients saw them in" : " exists");
    }

    /// <summary>A last pass fetches the operations of the transactions the examples name.</summary>
    private static List<Anomaly> Materialize(IHistorySource history, AnomalyLog log)
    {
        if (log.Examples.Count == 0) return [];
        var wanted = new HashSet<int>(log.Examples.SelectMany(x => x.Txns));
        var completions = new Dictionary<int, HistoryOp>();
        foreach (var e in TransactionPairer.Events(history.Read()))
            if (!e.IsInvoke && wanted.Contains(e.Txn)) completions[e.Txn] = e.Completion ?? e.Invoke;
        return log.Examples
            .Select(x => new Anomaly(x.Kind, x.Explanation, x.Txns.Where(completions.ContainsKey).Select(t => completions[t]).ToList()))
            .ToList();
    }

    private static string Name(List<TxnInfo> txns, int t)
    {
        var x = txns[t];
        return x.CompleteIndex >= 0 ? $"T{x.CompleteIndex}" : $"T{x.InvokeIndex}?";
    }

    private static string List(long[] values) => "[" + string.Join(" ", values) + "]";

    private static bool IsPrefix(long[] prefix, long[] of) =>
        prefix.Length <= of.Length && prefix.AsSpan().SequenceEqual(of.AsSpan(0, prefix.Length));
}
