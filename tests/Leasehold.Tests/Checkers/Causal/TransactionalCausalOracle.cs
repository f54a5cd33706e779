using Leasehold.Checkers.Causal;

namespace Leasehold.Tests.Checkers.Causal;

/// <summary>What the transactional oracle found: counts per read, and whether each kind of cycle exists.</summary>
internal sealed record TransactionalVerdict(
    int ThinAir, int Aborted, int Intermediate, bool Cycle, int InitRead, int CoRead, int Fractured, int NonSnapshot, bool ConflictCycle)
{
    public bool Valid(bool convergence) =>
        ThinAir == 0 && Aborted == 0 && Intermediate == 0 && !Cycle && InitRead == 0 && CoRead == 0 && Fractured == 0 && NonSnapshot == 0
        && !(convergence && ConflictCycle);
}

/// <summary>
/// The transactional definitions (see <see cref="CausalAnomalyKinds"/>), computed the slow way for small histories,
/// by full transitive closure over one event per op, a begin event per function and a commit event per committed
/// transaction (every function of it → its commit → whoever else reads its writes, and its session successor).
/// Independent of the checker's chains, clocks, commit clocks, snapshot caps and candidate search.
/// </summary>
internal sealed class TransactionalCausalOracle
{
    private sealed record Write(int Event, long Workflow, string Key, long Value);

    private readonly List<List<int>> _edges = [];
    private readonly Dictionary<long, int> _commit = [];
    private bool[][] _reach = [];

    public static TransactionalVerdict Check(IReadOnlyList<CausalRecord> records) => new TransactionalCausalOracle().Run(records);

    private int NewEvent()
    {
        _edges.Add([]);
        return _edges.Count - 1;
    }

    private TransactionalVerdict Run(IReadOnlyList<CausalRecord> records)
    {
        var byWorkflow = records.GroupBy(r => r.Workflow).ToDictionary(g => g.Key, g => g.ToList());
        var aborted = byWorkflow.Where(w => w.Value.Any(r => !r.Ok)).Select(w => w.Key).ToHashSet();
        var transactional = byWorkflow.Where(w => w.Value[0].Transaction).Select(w => w.Key).ToHashSet();
        var abortedValues = records.Where(r => aborted.Contains(r.Workflow)).SelectMany(r => r.Ops).Where(o => o.Kind == CausalOpKind.Write)
            .Select(o => (o.Key, o.Value!.Value)).ToHashSet();
        var writes = new Dictionary<(string, long), Write>();
        var final = new Dictionary<(long, string), long>(); // a transaction's last write of a key, by function index
        var reads = new List<(int Event, long Workflow, CausalOp Op)>();
        var lasts = new Dictionary<long, List<int>>();
        var roots = new Dictionary<long, List<int>>();
        foreach (var (wf, list) in byWorkflow)
        {
            if (aborted.Contains(wf)) continue;
            var recorded = list.ToDictionary(r => r.Function);
            var span = new Dictionary<int, (int First, int Last)>();
            lasts[wf] = [];
            roots[wf] = [];
            foreach (int f in recorded.Keys.Concat(list.SelectMany(r => r.Parents)).Distinct().Order())
            {
                recorded.TryGetValue(f, out var r);
                int first = NewEvent(), last = first;
                foreach (var op in r?.Ops ?? [])
                {
                    int e = NewEvent();
                    _edges[last].Add(e);
                    last = e;
                    if (op.Kind == CausalOpKind.Write)
                    {
                        writes[(op.Key, op.Value!.Value)] = new Write(e, wf, op.Key, op.Value.Value);
                        final[(wf, op.Key)] = op.Value.Value;
                    }
                    else reads.Add((e, wf, op));
                }
                span[f] = (first, last);
                lasts[wf].Add(last);
                if (r is null || r.Parents.Length == 0) roots[wf].Add(first);
            }
            foreach (var r in list)
                foreach (int p in r.Parents) _edges[span[p].Last].Add(span[r.Function].First);
            if (transactional.Contains(wf))
            {
                _commit[wf] = NewEvent();
                foreach (int last in lasts[wf]) _edges[last].Add(_commit[wf]);
            }
        }
        foreach (var session in byWorkflow.Where(w => !aborted.Contains(w.Key)).GroupBy(w => w.Value[0].Process))
        {
            var ordered = session.OrderBy(w => w.Value[0].Seq).Select(w => w.Key).ToList();
            for (int i = 0; i + 1 < ordered.Count; i++)
                foreach (int from in Exits(ordered[i], lasts))
                    foreach (int to in roots[ordered[i + 1]]) _edges[from].Add(to);
        }

        int thinAir = 0, abortedReads = 0, intermediate = 0;
        var attributed = new List<(int Event, long Workflow, string Key, Write? Source)>();
        foreach (var (e, wf, op) in reads)
        {
            if (op.Value is not { } v) { attributed.Add((e, wf, op.Key, null)); continue; }
            if (abortedValues.Contains((op.Key, v))) { abortedReads++; continue; }
            if (!writes.TryGetValue((op.Key, v), out var w)) { thinAir++; continue; }
            bool other = w.Workflow != wf && transactional.Contains(w.Workflow);
            if (other && final[(w.Workflow, w.Key)] != w.Value) { intermediate++; continue; }
            _edges[other ? _commit[w.Workflow] : w.Event].Add(e);
            attributed.Add((e, wf, op.Key, w));
        }
        _reach = CausalOracle.Closure(_edges);
        bool cycle = Enumerable.Range(0, _edges.Count).Any(i => _reach[i][i]);

        var ofKey = writes.Values.GroupBy(w => w.Key).ToDictionary(g => g.Key, g => g.ToList());
        // Per transaction: the transactions it read a (final) write of.
        var readFrom = attributed.Where(a => a.Source is { } s && transactional.Contains(a.Workflow) && s.Workflow != a.Workflow && transactional.Contains(s.Workflow))
            .GroupBy(a => a.Workflow).ToDictionary(g => g.Key, g => g.Select(a => a.Source!.Workflow).Distinct().ToList());
        int init = 0, coRead = 0, fractured = 0, nonSnapshot = 0;
        var conflicts = _edges.Select(l => l.ToList()).ToList();
        foreach (var (e, wf, key, w1) in attributed)
        {
            var all = ofKey.GetValueOrDefault(key) ?? [];
            List<Write> past;
            bool txn = transactional.Contains(wf);
            if (!txn) past = [.. all.Where(w => _reach[w.Event][e])];
            else
            {
                var own = all.Where(w => w.Workflow == wf && _reach[w.Event][e]).ToList();
                if (w1 is not null && w1.Workflow == wf)
                {
                    // Its own write: only a later own write in its past makes it stale; outside writes are all before it.
                    if (own.Any(w2 => w2 != w1 && _reach[w1.Event][w2.Event])) coRead++;
                    continue;
                }
                if (own.Count > 0)
                {
                    if (w1 is null) init++; else coRead++;
                    continue;
                }
                past = [.. all.Where(w => w.Workflow != wf && _reach[w.Event][_commit[wf]])];
            }
            // Outside a transaction only its final write of a key exists: its other writes of the key are not in anyone's past.
            if (w1 is not null && w1.Workflow != wf && transactional.Contains(w1.Workflow)) past.RemoveAll(w => w.Workflow == w1.Workflow && w != w1);
            var newer = past.Where(w2 => w2 != w1 && (w1 is null || Before(w1, w2))).ToList();
            if (newer.Count > 0)
            {
                if (!txn) { if (w1 is null) init++; else coRead++; }
                else if ((readFrom.GetValueOrDefault(wf) ?? []).Any(u => final.TryGetValue((u, key), out long v) && (w1 is null || (w1.Value != v && Before(w1, writes[(key, v)])))))
                    fractured++;
                else nonSnapshot++;
            }
            if (w1 is null) continue;
            // Conflict order between the writes' events (a transaction's commit), for convergence.
            foreach (var w2 in past)
                if (w2 != w1 && !Before(w1, w2) && EventOf(w2) != EventOf(w1)) conflicts[EventOf(w2)].Add(EventOf(w1));
        }
        var reachCf = CausalOracle.Closure(conflicts);
        bool conflictCycle = Enumerable.Range(0, conflicts.Count).Any(i => reachCf[i][i]);
        return new TransactionalVerdict(thinAir, abortedReads, intermediate, cycle, init, coRead, fractured, nonSnapshot, conflictCycle);
    }

    /// <summary>Where a workflow hands on to its session successor: its commit, or each function's last event.</summary>
    private IEnumerable<int> Exits(long wf, Dictionary<long, List<int>> lasts) => _commit.TryGetValue(wf, out int c) ? [c] : lasts[wf];

    private int EventOf(Write w) => _commit.TryGetValue(w.Workflow, out int c) ? c : w.Event;

    /// <summary>a →CO b: to a transaction's write from outside it means into its commit.</summary>
    private bool Before(Write a, Write b) =>
        _commit.TryGetValue(b.Workflow, out int c) && a.Workflow != b.Workflow ? _reach[a.Event][c] : _reach[a.Event][b.Event];
}
