using CsCheck;
using Leasehold.Checkers.Causal;
using K = Leasehold.Checkers.Causal.CausalAnomalyKinds;

namespace Leasehold.Tests.Checkers.Causal;

/// <summary>
/// Properties on random histories: sequentially consistent runs always check valid (no false positives),
/// a read mutated to an overwritten value in its causal past is always flagged (no false negatives), and on
/// histories with random reads the checker agrees with <see cref="CausalOracle"/>, which computes the
/// definitions by full transitive closure.
/// </summary>
public class CausalCheckerPropertyTests
{
    private static readonly CausalChecker Cc = new();
    private static readonly CausalChecker Ccv = new(new CausalCheckerOptions { Convergence = true });

    internal static string Print(List<CausalRecord> records) => string.Join("\n", records.Select(CausalHistoryJson.ToLine));

    [Fact]
    [Trait("Category", "Long")]
    public void Sequentially_consistent_histories_are_causal_and_converge()
    {
        long reads = 0, writes = 0, aborted = 0, missing = 0, conflicts = 0;
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var records = SequentialCausalHistories.Generate(seed);
            var history = new CausalMemoryHistory(records);
            var cc = Cc.Check(history);
            var ccv = Ccv.Check(history);
            Assert.True(cc.Valid, $"seed {seed}: {CausalVerdict.Describe(cc)}");
            Assert.True(ccv.Valid, $"seed {seed}: {CausalVerdict.Describe(ccv)}");
            Assert.True(CausalOracle.Check(records).Valid(convergence: true), $"seed {seed}: the oracle disagrees with the simulator");
            reads += cc.Reads;
            writes += cc.Writes;
            aborted += cc.AbortedWorkflows;
            missing += cc.MissingFunctions;
            conflicts += ccv.ConflictEdges;
        }, iter: 2000, threads: 1, print: seed => $"{seed}:\n{Print(SequentialCausalHistories.Generate(seed))}");
        // The histories must be rich enough to mean something.
        Assert.True(reads > 20_000, $"{reads} reads");
        Assert.True(writes > 20_000, $"{writes} writes");
        Assert.True(aborted > 300, $"{aborted} aborted workflows");
        Assert.True(missing > 50, $"{missing} unrecorded parents");
        Assert.True(conflicts > 1000, $"{conflicts} conflict edges");
    }

    [Fact]
    [Trait("Category", "Long")]
    public void A_read_mutated_to_an_overwritten_value_in_its_causal_past_is_always_flagged()
    {
        int flagged = 0, tried = 0;
        Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue]).Sample((seed, pick) =>
        {
            var records = SequentialCausalHistories.Generate(seed);
            if (!Mutate(records, pick, out var mutated, out string what)) return;
            tried++;
            var oracle = CausalOracle.Check(mutated);
            var r = Cc.Check(new CausalMemoryHistory(mutated));
            // The mutation keeps the history acyclic and every value attributed; whether it is a violation is the
            // oracle's call: an older value is only wrong if something that overwrote it is also in the read's past.
            Assert.False(oracle.Cycle);
            Assert.True(oracle.InitRead == r.Counts[K.WriteCOInitRead] && oracle.CoRead == r.Counts[K.WriteCORead],
                $"{what}: oracle {oracle}, checker {CausalVerdict.Describe(r)}\n{Print(mutated)}");
            if (!oracle.Valid(convergence: false))
            {
                flagged++;
                Assert.False(r.Valid, $"{what}: missed\n{Print(mutated)}");
            }
        }, iter: 3000, threads: 1, print: t => $"{t.Item1} {t.Item2}");
        Assert.True(tried > 1500, $"only {tried} mutations applied");
        Assert.True(flagged > tried / 3, $"only {flagged} of {tried} mutations were violations");
    }

    [Fact]
    [Trait("Category", "Long")]
    public void On_histories_with_random_reads_the_checker_agrees_with_the_transitive_closure_oracle()
    {
        var seen = K.All.ToDictionary(k => k, _ => 0);
        Gen.Select(Gen.Int[0, int.MaxValue], Gen.Double[0.05, 0.5]).Sample((seed, chaos) =>
        {
            var records = SequentialCausalHistories.Generate(seed, chaos);
            var oracle = CausalOracle.Check(records);
            var cc = Cc.Check(new CausalMemoryHistory(records));
            var ccv = Ccv.Check(new CausalMemoryHistory(records));
            string why = $"seed {seed} chaos {chaos}: oracle {oracle}, checker {CausalVerdict.Describe(ccv)}";
            Assert.True(oracle.ThinAir == cc.Counts[K.ThinAirRead], why);
            Assert.True(oracle.Aborted == cc.Counts[K.AbortedRead], why);
            Assert.True(oracle.Cycle == cc.Counts[K.CyclicCO] > 0, why);
            Assert.Equal(oracle.Valid(convergence: false), cc.Valid);
            foreach (var r in new[] { cc, ccv })
                foreach (var kind in K.All.Where(k => k != K.CyclicCF))
                    Assert.True(cc.Counts[kind] == r.Counts[kind], $"convergence changed the {kind} count: {why}");
            if (!oracle.Cycle)
            {
                // Reads after a cycle are not checked (their past is undefined), so the counts compare only without one.
                Assert.True(oracle.InitRead == cc.Counts[K.WriteCOInitRead], why);
                Assert.True(oracle.CoRead == cc.Counts[K.WriteCORead], why);
                if (oracle.CoRead == 0) Assert.True(oracle.ConflictCycle == ccv.Counts[K.CyclicCF] > 0, why);
            }
            foreach (var (kind, count) in ccv.Counts) if (count > 0) seen[kind]++;
        }, iter: 3000, threads: 1, print: t => $"{t.Item1} {t.Item2}:\n{Print(SequentialCausalHistories.Generate(t.Item1, t.Item2))}");
        // The generator makes plain workflows only: the transactional kinds have their own tests.
        foreach (var (kind, histories) in seen.Where(s => !K.Transactional.Contains(s.Key)))
            Assert.True(histories > 100, $"{kind} appeared in only {histories} histories");
    }

    /// <summary>
    /// Changes one committed read to an older value of its key in its causal past: another committed write of the key
    /// the read had in its past, or the initial value when some write is in its past. False when there is none.
    /// </summary>
    private static bool Mutate(List<CausalRecord> records, int pick, out List<CausalRecord> mutated, out string what)
    {
        mutated = records;
        what = "";
        var oracle = new CausalOracle(records);
        var aborted = records.Where(r => !r.Ok).Select(r => r.Workflow).ToHashSet();
        var candidates = new List<(int Record, int Op, long? Value)>();
        for (int i = 0; i < records.Count; i++)
        {
            if (aborted.Contains(records[i].Workflow)) continue;
            for (int o = 0; o < records[i].Ops.Length; o++)
            {
                var op = records[i].Ops[o];
                if (op.Kind != CausalOpKind.Read) continue;
                var older = oracle.PastWrites(records[i], o).Where(v => v != op.Value).Select(v => (long?)v).ToList();
                if (older.Count == 0) continue;
                if (op.Value is not null) older.Add(null);
                foreach (var v in older) candidates.Add((i, o, v));
            }
        }
        if (candidates.Count == 0) return false;
        var (ri, oi, value) = candidates[(int)((uint)pick % candidates.Count)];
        var record = records[ri];
        var ops = (CausalOp[])record.Ops.Clone();
        what = $"{record}: op {oi} {ops[oi]} → {value?.ToString() ?? "init"}";
        ops[oi] = CausalOp.Read(ops[oi].Key, value);
        mutated = [.. records];
        mutated[ri] = record with { Ops = ops };
        return true;
    }
}
