using Leasehold.Checkers.Histories;

namespace Leasehold.Tests.Checkers;

/// <summary>
/// Random concurrent list-append histories that are strictly serializable by construction: a few
/// sequential processes overlap in time, and each transaction takes effect atomically at a random
/// instant inside its interval (a committed one), never (a failed one), or at any instant after its
/// invocation, possibly after its info completion, or never (an unknown one). Reads return the state
/// at that instant. A process whose operation ended info continues under a fresh id.
/// </summary>
internal static class ConcurrentHistories
{
    private sealed class Txn
    {
        public long Process;
        public double Invoke, Complete = double.NaN, Commit = double.NaN;
        public OpType Outcome;
        public required MicroOp[] Ops;
    }

    public static List<HistoryOp> Generate(int seed)
    {
        var random = new Random(seed);
        int processes = random.Next(1, 7), keys = random.Next(1, 5), perProcess = random.Next(1, 15);
        long fresh = processes, nextValue = 1;
        var txns = new List<Txn>();
        for (int p = 0; p < processes; p++)
        {
            long process = p;
            double t = random.NextDouble() * 3;
            for (int n = 0; n < perProcess; n++)
            {
                var ops = new MicroOp[random.Next(0, 5)];
                for (int i = 0; i < ops.Length; i++)
                {
                    long key = random.Next(keys);
                    ops[i] = random.Next(2) == 0 ? MicroOp.Append(key, nextValue++) : MicroOp.ReadOf(key);
                }
                var txn = new Txn { Process = process, Invoke = t + random.NextDouble(), Ops = ops };
                double duration = 0.05 + random.NextDouble() * 4;
                int fate = random.Next(16);
                bool dangling = n == perProcess - 1 && random.Next(4) == 0;
                txn.Outcome = fate switch { < 12 => OpType.Ok, < 14 => OpType.Fail, _ => OpType.Info };
                if (dangling) txn.Outcome = OpType.Info;
                else txn.Complete = txn.Invoke + duration;
                txn.Commit = txn.Outcome switch
                {
                    OpType.Ok => txn.Invoke + random.NextDouble() * duration,
                    OpType.Info when random.Next(2) == 0 => txn.Invoke + random.NextDouble() * duration * 3,
                    _ => double.NaN,
                };
                if (dangling && fate < 12 && double.IsNaN(txn.Commit)) txn.Commit = txn.Invoke + random.NextDouble() * duration;
                txns.Add(txn);
                t = txn.Complete;
                if (txn.Outcome == OpType.Info) process = fresh++;
                if (dangling) break;
            }
        }

        // Take effect in commit order; reads see the state at that instant, then their own appends.
        var state = new Dictionary<long, List<long>>();
        foreach (var txn in txns.Where(x => !double.IsNaN(x.Commit)).OrderBy(x => x.Commit))
            for (int i = 0; i < txn.Ops.Length; i++)
            {
                var m = txn.Ops[i];
                if (!state.TryGetValue(m.Key, out var list)) state.Add(m.Key, list = []);
                if (m.Kind == MicroOpKind.Append) list.Add(m.Value);
                else txn.Ops[i] = MicroOp.ReadOf(m.Key, [.. list]);
            }
        foreach (var txn in txns.Where(x => x.Outcome == OpType.Ok))
            for (int i = 0; i < txn.Ops.Length; i++)
                if (txn.Ops[i] is { Kind: MicroOpKind.Read, Read: null }) throw new InvalidOperationException("a committed read without a result");

        // Invocations and completions in time order; the builder wants distinct integer times.
        var events = txns.Select(x => (Time: x.Invoke, Txn: x, Invoke: true))
            .Concat(txns.Where(x => !double.IsNaN(x.Complete)).Select(x => (Time: x.Complete, Txn: x, Invoke: false)))
            .OrderBy(e => e.Time).ToList();
        var at = new Dictionary<(Txn, bool), int>();
        for (int i = 0; i < events.Count; i++) at[(events[i].Txn, events[i].Invoke)] = i;
        var b = new HistoryBuilder();
        foreach (var txn in txns)
            b.T(txn.Process, at[(txn, true)], at.TryGetValue((txn, false), out int c) ? c : null, txn.Outcome, txn.Ops);
        return b.Build();
    }
}
