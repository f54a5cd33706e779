using Leasehold.Checkers.Causal;

namespace Leasehold.Tests.Checkers.Causal;

/// <summary>What the naive oracle found: counts per read, and whether each kind of cycle exists.</summary>
internal sealed record OracleVerdict(int ThinAir, int Aborted, bool Cycle, int InitRead, int CoRead, bool ConflictCycle)
{
    public bool Valid(bool convergence) =>
        ThinAir == 0 && Aborted == 0 && !Cycle && InitRead == 0 && CoRead == 0 && !(convergence && ConflictCycle);
}

/// <summary>
/// The definitions, computed the slow way for small histories: one event per op (plus one "begin" event per
/// function, so empty and unrecorded functions keep their place), session order and reads-from as edges, and
/// causal order as their full transitive closure. Independent of the checker's chains, clocks, nodes and
/// candidate search, so the two can be compared on random histories.
/// </summary>
internal sealed class CausalOracle
{
    private readonly Dictionary<(long Workflow, int Function, int Op), int> _eventOf = [];
    private readonly Dictionary<string, List<(int Event, long Value)>> _committedWrites = [];
    private readonly bool[][] _reach;

    public OracleVerdict Verdict { get; }

    public static OracleVerdict Check(IReadOnlyList<CausalRecord> records) => new CausalOracle(records).Verdict;

    /// <summary>The values of committed writes of the read's key in the causal past of op <paramref name="op"/> of <paramref name="record"/>.</summary>
    public IEnumerable<long> PastWrites(CausalRecord record, int op)
    {
        int read = _eventOf[(record.Workflow, record.Function, op)];
        return (_committedWrites.GetValueOrDefault(record.Ops[op].Key) ?? []).Where(w => _reach[w.Event][read]).Select(w => w.Value);
    }

    public CausalOracle(IReadOnlyList<CausalRecord> records)
    {
        var byWorkflow = records.GroupBy(r => r.Workflow).ToDictionary(g => g.Key, g => g.ToList());
        var aborted = byWorkflow.Where(w => w.Value.Any(r => !r.Ok)).Select(w => w.Key).ToHashSet();
        var events = new List<(CausalRecord? Record, int Op)>();
        var edges = new List<List<int>>();
        int NewEvent(CausalRecord? r, int op)
        {
            events.Add((r, op));
            edges.Add([]);
            return events.Count - 1;
        }
        // Per committed workflow: each function's first and last event; unrecorded parents become empty roots.
        var writes = new Dictionary<(string, long), (int Event, bool Committed)>();
        var reads = new List<(int Event, CausalOp Op)>();
        var span = new Dictionary<(long Workflow, int Function), (int First, int Last, bool Root)>();
        foreach (var r in records)
            if (aborted.Contains(r.Workflow))
                foreach (var op in r.Ops.Where(o => o.Kind == CausalOpKind.Write)) writes[(op.Key, op.Value!.Value)] = (-1, false);
        foreach (var (wf, list) in byWorkflow)
        {
            if (aborted.Contains(wf)) continue;
            var recorded = list.ToDictionary(r => r.Function);
            var indices = recorded.Keys.Concat(list.SelectMany(r => r.Parents)).Distinct().Order();
            foreach (int f in indices)
            {
                recorded.TryGetValue(f, out var r);
                int first = NewEvent(r, -1), last = first;
                if (r is not null)
                    for (int i = 0; i < r.Ops.Length; i++)
                    {
                        int e = NewEvent(r, i);
                        _eventOf[(wf, f, i)] = e;
                        edges[last].Add(e);
                        last = e;
                        var op = r.Ops[i];
                        if (op.Kind == CausalOpKind.Write)
                        {
                            writes[(op.Key, op.Value!.Value)] = (e, true);
                            if (!_committedWrites.TryGetValue(op.Key, out var list2)) _committedWrites[op.Key] = list2 = [];
                            list2.Add((e, op.Value!.Value));
                        }
                        else reads.Add((e, op));
                    }
                span[(wf, f)] = (first, last, r is null || r.Parents.Length == 0);
            }
            foreach (var r in list)
                foreach (int p in r.Parents) edges[span[(wf, p)].Last].Add(span[(wf, r.Function)].First);
        }
        foreach (var session in byWorkflow.Where(w => !aborted.Contains(w.Key)).GroupBy(w => w.Value[0].Process))
        {
            var ordered = session.OrderBy(w => w.Value[0].Seq).Select(w => w.Key).ToList();
            for (int i = 0; i + 1 < ordered.Count; i++)
                foreach (var from in span.Where(s => s.Key.Workflow == ordered[i]))
                    foreach (var to in span.Where(s => s.Key.Workflow == ordered[i + 1] && s.Value.Root))
                        edges[from.Value.Last].Add(to.Value.First);
        }
        int thinAir = 0, abortedReads = 0;
        var readsFrom = new List<(int Read, int Write, string Key)>();
        var initReads = new List<(int Read, string Key)>();
        foreach (var (e, op) in reads)
        {
            if (op.Value is not { } v) { initReads.Add((e, op.Key)); continue; }
            if (!writes.TryGetValue((op.Key, v), out var w)) thinAir++;
            else if (!w.Committed) abortedReads++;
            else
            {
                edges[w.Event].Add(e);
                readsFrom.Add((e, w.Event, op.Key));
            }
        }
        var reach = _reach = Closure(edges);
        int n = events.Count;
        bool cycle = Enumerable.Range(0, n).Any(i => reach[i][i]);
        var writesOf = writes.Where(w => w.Value.Committed).GroupBy(w => w.Key.Item1).ToDictionary(g => g.Key, g => g.Select(w => w.Value.Event).ToList());
        List<int> WritesOf(string key) => writesOf.GetValueOrDefault(key) ?? [];

        int init = initReads.Count(r => WritesOf(r.Key).Any(w => reach[w][r.Read]));
        int coRead = readsFrom.Count(r => WritesOf(r.Key).Any(w2 => w2 != r.Write && reach[r.Write][w2] && reach[w2][r.Read]));
        // Conflict order: a write in a read's past precedes the write it read (unless that would contradict causal order,
        // which is a WriteCORead already).
        var withConflicts = edges.Select(l => l.ToList()).ToList();
        foreach (var r in readsFrom)
            foreach (int w2 in WritesOf(r.Key))
                if (w2 != r.Write && reach[w2][r.Read] && !reach[r.Write][w2]) withConflicts[w2].Add(r.Write);
        var reachCf = Closure(withConflicts);
        bool conflictCycle = Enumerable.Range(0, n).Any(i => reachCf[i][i]);
        Verdict = new OracleVerdict(thinAir, abortedReads, cycle, init, coRead, conflictCycle);
    }

    /// <summary>reach[i][j]: a path of at least one edge from i to j.</summary>
    internal static bool[][] Closure(List<List<int>> edges)
    {
        int n = edges.Count;
        var reach = new bool[n][];
        var stack = new Stack<int>();
        for (int i = 0; i < n; i++)
        {
            reach[i] = new bool[n];
            foreach (int e in edges[i]) stack.Push(e);
            while (stack.Count > 0)
            {
                int v = stack.Pop();
                if (reach[i][v]) continue;
                reach[i][v] = true;
                foreach (int e in edges[v]) stack.Push(e);
            }
        }
        return reach;
    }
}
