using Leasehold.Checkers.Causal;

namespace Leasehold.Tests.Checkers.Causal;

/// <summary>
/// Random causal histories from a sequentially consistent simulator: a few processes, each issuing a few
/// workflows (random DAGs of functions, random reads and writes over a few keys), all applied to one global
/// map in one random interleaving of ops that respects session order (a function runs once its parents are
/// done, a workflow once the process's previous one is). Such a history is causally consistent and converges.
/// Some workflows abort (their writes never reach the map); some runs are cut off (a last workflow loses
/// records of functions whose writes nobody read); records come out shuffled.
/// With <c>chaos</c> &gt; 0 a read returns, with that probability, a random value instead (an older or future
/// write of the key, another key's value, the initial value or garbage): every kind of violation appears.
/// With <c>transactions</c> &gt; 0 that share of workflows are read-write transactions: each reads a snapshot of the
/// map taken when it starts, overlaid with its own buffered writes (any of its functions', as one buffer would), and
/// at its end commits each key's final write (last in function index order) to the map at once — valid TCC.
/// </summary>
internal static class SequentialCausalHistories
{
    private sealed record FunctionPlan(int[] Parents, (bool Write, string Key)[] Ops);

    private sealed record WorkflowPlan(long Id, FunctionPlan[] Functions, int Failing, bool Transaction);

    /// <summary>A running transaction's view: the map when it started, and its own writes.</summary>
    private sealed class Running(Dictionary<string, long> snapshot)
    {
        public readonly Dictionary<string, long> Snapshot = snapshot;
        public readonly Dictionary<string, long> Buffer = [];
    }

    public static List<CausalRecord> Generate(int seed, double chaos = 0, double transactions = 0)
    {
        var rnd = new Random(seed);
        int processes = rnd.Next(1, 5), keys = rnd.Next(1, 5);
        string Key() => $"k{rnd.Next(keys)}";
        long nextId = 100;
        var plans = new List<WorkflowPlan>[processes];
        for (int p = 0; p < processes; p++)
        {
            plans[p] = [];
            for (int w = rnd.Next(1, 5); w > 0; w--)
            {
                var functions = new FunctionPlan[rnd.Next(1, 5)];
                for (int f = 0; f < functions.Length; f++)
                {
                    int[] parents = [.. Enumerable.Range(0, f).Where(_ => rnd.Next(3) == 0)];
                    var ops = new (bool, string)[rnd.Next(0, 5)];
                    for (int o = 0; o < ops.Length; o++) ops[o] = (rnd.Next(2) == 0, Key());
                    functions[f] = new FunctionPlan(parents, ops);
                }
                int failing = rnd.Next(10) == 0 ? rnd.Next(functions.Length) : -1;
                // Drawn only when asked for, so plain histories stay what they were for a given seed.
                bool transaction = transactions > 0 && rnd.NextDouble() < transactions;
                plans[p].Add(new WorkflowPlan(nextId += rnd.Next(1, 4), functions, failing, transaction));
            }
        }

        // Run: one global map, one op at a time, chosen at random among the functions that may run.
        var map = new Dictionary<string, long>();
        long nextValue = 1;
        var current = new int[processes];
        var pc = new Dictionary<(int P, int F), int>();
        var done = new HashSet<(int P, int F)>();
        var ran = new Dictionary<(int P, int F), List<CausalOp>>();
        var records = new List<CausalRecord>();
        var running = new Running?[processes];
        while (true)
        {
            var enabled = new List<(int P, int F)>();
            for (int p = 0; p < processes; p++)
            {
                if (current[p] >= plans[p].Count) continue;
                var wf = plans[p][current[p]];
                for (int f = 0; f < wf.Functions.Length; f++)
                    if (!done.Contains((p, f)) && wf.Functions[f].Parents.All(x => done.Contains((p, x)))) enabled.Add((p, f));
            }
            if (enabled.Count == 0) break;
            var (proc, fn) = enabled[rnd.Next(enabled.Count)];
            var plan = plans[proc][current[proc]];
            var fnPlan = plan.Functions[fn];
            int at = pc.GetValueOrDefault((proc, fn));
            if (!ran.TryGetValue((proc, fn), out var opsRun)) ran[(proc, fn)] = opsRun = [];
            var tx = plan.Transaction ? running[proc] ??= new Running(new Dictionary<string, long>(map)) : null;
            if (at < fnPlan.Ops.Length)
            {
                var (write, key) = fnPlan.Ops[at];
                if (write)
                {
                    long v = nextValue++;
                    if (tx is not null) tx.Buffer[key] = v;
                    else if (plan.Failing < 0) map[key] = v; // an aborted workflow's writes never become visible
                    opsRun.Add(CausalOp.Write(key, v));
                }
                else if (rnd.NextDouble() < chaos)
                    opsRun.Add(CausalOp.Read(key, rnd.Next(6) == 0 ? null : rnd.NextInt64(1, nextValue + 4)));
                else
                {
                    var view = tx is null ? map : tx.Buffer.ContainsKey(key) ? tx.Buffer : tx.Snapshot;
                    opsRun.Add(CausalOp.Read(key, view.TryGetValue(key, out long seen) ? seen : null));
                }
                pc[(proc, fn)] = at + 1;
                continue;
            }
            done.Add((proc, fn));
            records.Add(new CausalRecord(proc, current[proc], plan.Id, fn, fnPlan.Parents, fn != plan.Failing, [.. opsRun]) { Server = rnd.Next(4), Transaction = plan.Transaction });
            if (Enumerable.Range(0, plan.Functions.Length).All(f => done.Contains((proc, f))))
            {
                if (tx is not null && plan.Failing < 0)
                    // Commit: each key's last write in function index order, all at once.
                    foreach (var op in Enumerable.Range(0, plan.Functions.Length).SelectMany(f => ran[(proc, f)]).Where(o => o.Kind == CausalOpKind.Write))
                        map[op.Key] = op.Value!.Value;
                running[proc] = null;
                current[proc]++;
                done.RemoveWhere(d => d.P == proc);
                pc.Keys.Where(k => k.P == proc).ToList().ForEach(k => pc.Remove(k));
                ran.Keys.Where(k => k.P == proc).ToList().ForEach(k => ran.Remove(k));
            }
        }

        if (rnd.Next(3) == 0) CutOff(records, rnd);
        // Functions complete concurrently: the file's order says nothing.
        return [.. records.OrderBy(_ => rnd.Next())];
    }

    /// <summary>
    /// Drops some records of one process's last workflow, as a run stopped before they were written would, keeping every
    /// write somebody read, and the failed function of an aborted workflow (without it the workflow would look committed,
    /// though its writes never became visible).
    /// </summary>
    private static void CutOff(List<CausalRecord> records, Random rnd)
    {
        long process = records[rnd.Next(records.Count)].Process;
        long last = records.Where(r => r.Process == process).Max(r => r.Seq);
        var read = records.SelectMany(r => r.Ops.Where(o => o.Kind == CausalOpKind.Read).Select(o => (r, o.Key, o.Value))).ToList();
        records.RemoveAll(r => r.Process == process && r.Seq == last && r.Ok && rnd.Next(2) == 0
            && !r.Ops.Any(o => o.Kind == CausalOpKind.Write && read.Any(x => x.r != r && x.Key == o.Key && x.Value == o.Value)));
    }
}
