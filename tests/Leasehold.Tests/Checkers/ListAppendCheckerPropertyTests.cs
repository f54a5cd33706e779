using CsCheck;
using Leasehold.Checkers.Histories;
using Leasehold.Checkers.ListAppend;

namespace Leasehold.Tests.Checkers;

/// <summary>
/// Properties of the checker on random serial histories: it passes them (no false positives), and it
/// fails each once one read is corrupted (its negative controls: no false negatives for these faults).
/// </summary>
public class ListAppendCheckerPropertyTests
{
    private static readonly ListAppendChecker Strict = new(new CheckerOptions { Strict = true });
    private static readonly ListAppendChecker Plain = new();

    [Fact]
    [Trait("Category", "Long")]
    public void Random_serial_histories_are_strictly_serializable()
    {
        long committed = 0, edges = 0, unknownObserved = 0, failed = 0;
        SerialHistories.Histories.Sample((plans, dangling) =>
        {
            var run = SerialHistories.Execute(plans, dangling);
            var history = new MemoryHistory(run.History());
            var strict = Strict.Check(history);
            Assert.True(strict.Valid, Verdict.Describe(strict));
            Assert.True(Plain.Check(history).Valid);
            committed += strict.Committed;
            edges += strict.GraphEdges;
            unknownObserved += strict.UnknownObserved;
            failed += strict.Failed;
        }, iter: 3000, threads: 1, print: p => SerialHistories.Execute(p.Item1, p.Item2).ToString());
        // The histories must be rich enough to mean something.
        Assert.True(committed > 30_000, $"{committed} committed");
        Assert.True(edges > committed, $"{edges} edges for {committed} committed transactions");
        Assert.True(unknownObserved > 500, $"{unknownObserved} unknown transactions seen to commit");
        Assert.True(failed > 1000, $"{failed} failed");
    }

    [Fact]
    [Trait("Category", "Long")]
    public void Random_concurrent_histories_with_atomic_commit_points_are_strictly_serializable()
    {
        // Overlapping transactions, info ones taking effect after their completion: no false positives.
        long committed = 0, edges = 0, unknownObserved = 0;
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var history = new MemoryHistory(ConcurrentHistories.Generate(seed));
            var strict = Strict.Check(history);
            Assert.True(strict.Valid, $"seed {seed}: {Verdict.Describe(strict)}");
            committed += strict.Committed;
            edges += strict.GraphEdges;
            unknownObserved += strict.UnknownObserved;
        }, iter: 3000, threads: 1, print: seed => $"{seed}:\n{string.Join("\n", ConcurrentHistories.Generate(seed).Select(HistoryJson.ToLine))}");
        Assert.True(committed > 20_000, $"{committed} committed");
        Assert.True(edges > 2 * committed, $"{edges} edges");
        Assert.True(unknownObserved > 300, $"{unknownObserved} unknown transactions seen to commit");
    }

    [Fact]
    public void Random_concurrent_histories_are_flagged_once_two_reads_of_a_key_swap_results()
    {
        // The negative control for the property above: the same generator with the checker's own inputs
        // shuffled must fail somewhere, or the property would pass a checker that flags nothing.
        int invalid = 0;
        for (int seed = 0; seed < 400; seed++)
        {
            var ops = ConcurrentHistories.Generate(seed);
            // Swap the results of two committed reads of the same key that differ: at least one becomes wrong.
            var reads = ops.Select((o, i) => (o, i)).Where(x => x.o.Type == OpType.Ok)
                .SelectMany(x => x.o.Value.Select((m, j) => (Op: x.i, Micro: j, m)))
                .Where(x => x.m is { Kind: MicroOpKind.Read, Read.Length: > 0 }).ToList();
            var pair = reads.SelectMany(a => reads.Where(b => b.m.Key == a.m.Key && b.Op > a.Op && b.m.Read!.Length != a.m.Read!.Length).Select(b => (a, b))).FirstOrDefault();
            if (pair == default) continue;
            Set(ops, pair.a.Op, pair.a.Micro, pair.b.m.Read!);
            Set(ops, pair.b.Op, pair.b.Micro, pair.a.m.Read!);
            if (!Strict.Check(new MemoryHistory(ops)).Valid) invalid++;
        }
        Assert.True(invalid > 100, $"only {invalid} corrupted histories flagged");

        static void Set(List<HistoryOp> ops, int op, int micro, long[] read)
        {
            var value = (MicroOp[])ops[op].Value.Clone();
            value[micro] = MicroOp.ReadOf(value[micro].Key, read);
            ops[op] = ops[op] with { Value = value };
        }
    }

    public enum Corruption { DropMiddle, DropLast, Swap, Garbage }

    [Fact]
    [Trait("Category", "Long")]
    public void A_serial_history_with_one_corrupted_read_is_flagged()
    {
        var applied = new Dictionary<Corruption, int>();
        var gen = Gen.Select(SerialHistories.Histories, Gen.Enum<Corruption>(), Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue],
            (h, c, pick, pos) => (h.Plans, h.Dangling, c, pick, pos));
        gen.Sample((plans, dangling, corruption, pick, pos) =>
        {
            var run = SerialHistories.Execute(plans, dangling);
            if (!Corrupt(run, corruption, pick, pos, out string what)) return;
            applied[corruption] = applied.GetValueOrDefault(corruption) + 1;
            var r = Strict.Check(new MemoryHistory(run.History()));
            Assert.False(r.Valid, $"{what}: the checker missed it\n{run}");
        }, iter: 4000, threads: 1, print: p => $"{p.Item3} {p.Item4} {p.Item5}\n{SerialHistories.Execute(p.Item1, p.Item2)}");
        foreach (var c in Enum.GetValues<Corruption>())
            Assert.True(applied.GetValueOrDefault(c) > 400, $"{c} applied only {applied.GetValueOrDefault(c)} times");
    }

    [Fact]
    public void Dropping_an_element_from_the_middle_is_caught_even_without_real_time_when_a_later_read_shows_it()
    {
        // Without --strict a stale read is allowed, but two reads that disagree on the middle never are.
        var h = new HistoryBuilder()
            .Serial(HistoryBuilder.Append(1, 1))
            .Serial(HistoryBuilder.Append(1, 2))
            .Serial(HistoryBuilder.Append(1, 3))
            .Serial(HistoryBuilder.Read(1, 1, 3))
            .Serial(HistoryBuilder.Read(1, 1, 2, 3));
        Verdict.Flags(h.Check(), AnomalyKinds.IncompatibleOrder);
    }

    /// <summary>Corrupts one committed read in place; false when the history has nothing of that kind to corrupt.</summary>
    private static bool Corrupt(SerialHistories.Run run, Corruption corruption, int pick, int pos, out string what)
    {
        what = "";
        // An append by a transaction that completed ok: it precedes, in real time, everything invoked after it.
        bool Committed(long key, long value) =>
            run.Appender.TryGetValue((key, value), out int t) && run.Txns[t] is { Outcome: OpType.Ok, CompleteAt: not null };
        var candidates = new List<(int Txn, int Op, int[] Positions)>();
        for (int t = 0; t < run.Txns.Count; t++)
        {
            var txn = run.Txns[t];
            if (txn is not { Outcome: OpType.Ok, CompleteAt: not null }) continue;
            for (int i = 0; i < txn.Ops.Length; i++)
            {
                if (txn.Ops[i] is not { Kind: MicroOpKind.Read, Read: { } read, Key: var key }) continue;
                int[] positions = corruption switch
                {
                    Corruption.DropMiddle => [.. Enumerable.Range(0, Math.Max(0, read.Length - 1)).Where(p => Committed(key, read[p]))],
                    Corruption.DropLast => read.Length > 0 && Committed(key, read[^1]) ? [read.Length - 1] : [],
                    Corruption.Swap => [.. Enumerable.Range(0, Math.Max(0, read.Length - 1)).Where(p => Committed(key, read[p]))],
                    _ => [.. Enumerable.Range(0, read.Length + 1)],
                };
                if (positions.Length > 0) candidates.Add((t, i, positions));
            }
        }
        if (candidates.Count == 0) return false;
        var (ct, ci, ps) = candidates[pick % candidates.Count];
        var op = run.Txns[ct].Ops[ci];
        var list = op.Read!.ToList();
        int at = ps[pos % ps.Length];
        switch (corruption)
        {
            case Corruption.DropMiddle:
            case Corruption.DropLast:
                list.RemoveAt(at);
                break;
            case Corruption.Swap:
                int with = at + 1 + pos / ps.Length % (list.Count - at - 1);
                (list[at], list[with]) = (list[with], list[at]);
                break;
            default:
                list.Insert(at, 1_000_000_007);
                break;
        }
        run.Txns[ct].Ops[ci] = MicroOp.ReadOf(op.Key, [.. list]);
        what = $"{corruption}: {run.Txns[ct].CompleteAt}'s {op} became [{string.Join(", ", list)}]";
        return true;
    }
}
