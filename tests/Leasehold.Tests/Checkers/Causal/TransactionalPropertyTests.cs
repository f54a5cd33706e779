using CsCheck;
using Leasehold.Checkers.Causal;
using K = Leasehold.Checkers.Causal.CausalAnomalyKinds;

namespace Leasehold.Tests.Checkers.Causal;

/// <summary>
/// Properties on random histories where about half the workflows are read-write transactions: runs of a
/// simulator that gives each transaction a snapshot and commits its writes at once always check valid (no
/// false positives), and with random reads the checker agrees, kind by kind, with
/// <see cref="TransactionalCausalOracle"/>, which computes the definitions by full transitive closure.
/// </summary>
public class TransactionalPropertyTests
{
    private static readonly CausalChecker Cc = new();
    private static readonly CausalChecker Ccv = new(new CausalCheckerOptions { Convergence = true });
    private static string Print(List<CausalRecord> records) => CausalCheckerPropertyTests.Print(records);

    [Fact]
    [Trait("Category", "Long")]
    public void Histories_of_snapshot_reads_and_atomic_commits_are_valid_and_converge()
    {
        long transactions = 0, reads = 0;
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var records = SequentialCausalHistories.Generate(seed, transactions: 0.5);
            var history = new CausalMemoryHistory(records);
            var ccv = Ccv.Check(history);
            Assert.True(Cc.Check(history).Valid && ccv.Valid, $"seed {seed}: {CausalVerdict.Describe(ccv)}");
            Assert.True(TransactionalCausalOracle.Check(records).Valid(convergence: true), $"seed {seed}: the oracle disagrees with the simulator");
            transactions += ccv.Transactions;
            reads += ccv.Reads;
        }, iter: 1500, threads: 1, print: seed => $"{seed}:\n{Print(SequentialCausalHistories.Generate(seed, transactions: 0.5))}");
        Assert.True(transactions > 2000, $"{transactions} transactions");
        Assert.True(reads > 10_000, $"{reads} reads");
    }

    [Fact]
    [Trait("Category", "Long")]
    public void On_histories_with_random_reads_the_checker_agrees_with_the_transactional_oracle()
    {
        var seen = K.All.ToDictionary(k => k, _ => 0);
        Gen.Select(Gen.Int[0, int.MaxValue], Gen.Double[0.05, 0.5]).Sample((seed, chaos) =>
        {
            var records = SequentialCausalHistories.Generate(seed, chaos, transactions: 0.5);
            var oracle = TransactionalCausalOracle.Check(records);
            var cc = Cc.Check(new CausalMemoryHistory(records));
            var ccv = Ccv.Check(new CausalMemoryHistory(records));
            string why = $"seed {seed} chaos {chaos}: oracle {oracle}, checker {CausalVerdict.Describe(ccv)}";
            Assert.True(oracle.ThinAir == cc.Counts[K.ThinAirRead], why);
            Assert.True(oracle.Aborted == cc.Counts[K.AbortedRead], why);
            Assert.True(oracle.Intermediate == cc.Counts[K.IntermediateRead], why);
            Assert.True(oracle.Cycle == cc.Counts[K.CyclicCO] > 0, why);
            Assert.Equal(oracle.Valid(convergence: false), cc.Valid);
            foreach (var kind in K.All.Where(k => k != K.CyclicCF))
                Assert.True(cc.Counts[kind] == ccv.Counts[kind], $"convergence changed the {kind} count: {why}");
            if (!oracle.Cycle)
            {
                // Reads on or after a cycle are not checked, so the counts compare only without one.
                Assert.True(oracle.InitRead == cc.Counts[K.WriteCOInitRead], why);
                Assert.True(oracle.CoRead == cc.Counts[K.WriteCORead], why);
                Assert.True(oracle.Fractured == cc.Counts[K.FracturedRead], why);
                Assert.True(oracle.NonSnapshot == cc.Counts[K.NonSnapshotRead], why);
                if (oracle.CoRead + oracle.Fractured + oracle.NonSnapshot == 0) Assert.True(oracle.ConflictCycle == ccv.Counts[K.CyclicCF] > 0, why);
            }
            foreach (var (kind, count) in ccv.Counts) if (count > 0) seen[kind]++;
        }, iter: 3000, threads: 1, print: t => $"{t.Item1} {t.Item2}:\n{Print(SequentialCausalHistories.Generate(t.Item1, t.Item2, transactions: 0.5))}");
        foreach (var (kind, histories) in seen) Assert.True(histories > 50, $"{kind} appeared in only {histories} histories");
    }
}
