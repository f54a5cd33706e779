using CsCheck;
using Leasehold.Checkers.Histories;

namespace Leasehold.Tests.Checkers;

/// <summary>
/// Random list-append histories executed one transaction at a time against a model, so every read
/// returns the true current list: strictly serializable by construction. Failed transactions change
/// nothing; an unknown (info) one may or may not have taken effect; the last one may stay in flight.
/// Processes are reused, except after info (Jepsen's rule).
/// </summary>
internal static class SerialHistories
{
    public const int Keys = 4;

    public readonly record struct Step(bool Append, int Key);

    /// <summary>What happened to one transaction: ok, fail, info that took effect, info that did not.</summary>
    public enum Fate { Ok, Fail, InfoApplied, InfoLost }

    public readonly record struct Plan(Fate Fate, Step[] Steps);

    public sealed record Txn(long Process, int InvokeAt, int? CompleteAt, OpType Outcome, MicroOp[] Ops, bool Applied);

    public sealed record Run(List<Txn> Txns, Dictionary<(long Key, long Value), int> Appender)
    {
        public List<HistoryOp> History()
        {
            var b = new HistoryBuilder();
            foreach (var t in Txns) b.T(t.Process, t.InvokeAt, t.CompleteAt, t.Outcome, t.Ops);
            return b.Build();
        }

        public override string ToString() => string.Join("\n", History().Select(HistoryJson.ToLine));
    }

    private static readonly Gen<Step> GenStep = Gen.Select(Gen.Bool, Gen.Int[0, Keys - 1], (append, key) => new Step(append, key));

    private static readonly Gen<Fate> GenFate = Gen.Frequency((12, Fate.Ok), (1, Fate.Fail), (1, Fate.InfoApplied), (1, Fate.InfoLost));

    public static readonly Gen<Plan[]> Plans = Gen.Select(GenFate, GenStep.Array[0, 6], (fate, steps) => new Plan(fate, steps)).Array[1, 40];

    /// <summary>Plans and whether the last transaction is left in flight.</summary>
    public static readonly Gen<(Plan[] Plans, bool Dangling)> Histories = Gen.Select(Plans, Gen.Int[0, 4], (p, d) => (p, d == 0));

    public static Run Execute(Plan[] plans, bool danglingLast)
    {
        var state = new Dictionary<int, List<long>>();
        var appender = new Dictionary<(long, long), int>();
        var txns = new List<Txn>();
        long[] processes = [0, 1, 2];
        long fresh = 3;
        long nextValue = 1;
        int clock = 0;
        for (int n = 0; n < plans.Length; n++)
        {
            var plan = plans[n];
            bool dangling = danglingLast && n == plans.Length - 1;
            bool applied = plan.Fate is Fate.Ok or Fate.InfoApplied;
            // A transaction sees the state and its own appends; only an applied one leaves them behind.
            var local = state.ToDictionary(kv => kv.Key, kv => new List<long>(kv.Value));
            var ops = new MicroOp[plan.Steps.Length];
            for (int i = 0; i < ops.Length; i++)
            {
                int key = plan.Steps[i].Key;
                if (!local.TryGetValue(key, out var list)) local.Add(key, list = []);
                if (plan.Steps[i].Append)
                {
                    long v = nextValue++;
                    list.Add(v);
                    appender.Add((key, v), txns.Count);
                    ops[i] = MicroOp.Append(key, v);
                }
                else ops[i] = MicroOp.ReadOf(key, [.. list]);
            }
            if (applied) state = local;
            int slot = n % processes.Length;
            var outcome = plan.Fate switch { Fate.Ok => OpType.Ok, Fate.Fail => OpType.Fail, _ => OpType.Info };
            txns.Add(new Txn(processes[slot], clock, dangling ? null : clock + 1, outcome, ops, applied));
            clock += 2;
            if (outcome == OpType.Info) processes[slot] = fresh++;
        }
        return new Run(txns, appender);
    }
}
