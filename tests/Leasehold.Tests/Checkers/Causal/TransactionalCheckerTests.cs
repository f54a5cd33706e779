using Leasehold.Checkers.Causal;
using static Leasehold.Tests.Checkers.Causal.CausalHistoryBuilder;
using K = Leasehold.Checkers.Causal.CausalAnomalyKinds;

namespace Leasehold.Tests.Checkers.Causal;

/// <summary>
/// Read-write transactions (TCC): one hand-made history per transactional bad pattern, each beside the valid
/// history it differs from by one read or by the transaction flag alone, so a test fails if the checker flags too
/// much or too little. Every history is also checked with its records reversed, and valid ones under convergence.
/// </summary>
public class TransactionalCheckerTests
{
    private static CausalAnomaly Flags(CausalHistoryBuilder h, string kind, long count = 1)
    {
        CausalVerdict.Flags(h.CheckReversed(), kind, count);
        return CausalVerdict.Flags(h.Check(), kind, count);
    }

    private static void Valid(CausalHistoryBuilder h)
    {
        CausalVerdict.Valid(h.Check());
        CausalVerdict.Valid(h.CheckReversed());
        CausalVerdict.Valid(h.Check(convergence: true));
    }

    // W1 (process 0) writes y = 0; W2, a transaction of process 0, writes x = 1 and y = 1 together.
    private static CausalHistoryBuilder TwoKeysWrittenTogether() => new CausalHistoryBuilder()
        .Session(0, W("y", 0))
        .Transaction(0, new Fn(0, [], W("x", 1), W("y", 1)));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_transaction_that_sees_one_write_of_another_but_an_older_value_of_its_other_key_is_a_fractured_read(bool xFirst)
    {
        // In one function, in either order: a transaction's reads all come from its snapshot, program order does not matter.
        var ops = xFirst ? new[] { R("x", 1), R("y", 0) } : [R("y", 0), R("x", 1)];
        var a = Flags(TwoKeysWrittenTogether().Transaction(1, new Fn(0, [], ops)), K.FracturedRead);
        Assert.Contains("W3/f0 op " + (xFirst ? 1 : 0) + " r(y)=0", a.Explanation);
        Assert.Contains("a write of read-write transaction W2", a.Explanation);
        Assert.Contains("W2/f0 op 1 w(y)=1", a.Explanation);
        Assert.Contains("commit of W2", a.Explanation);
        Valid(TwoKeysWrittenTogether().Transaction(1, new Fn(0, [], R("x", 1), R("y", 1))));
        // Not having seen W2 at all, the old values are a consistent snapshot.
        Valid(TwoKeysWrittenTogether().Transaction(1, new Fn(0, [], R("x", null), R("y", 0))));
    }

    [Fact]
    public void A_fractured_read_across_parallel_branches_and_of_the_initial_value()
    {
        var h = new CausalHistoryBuilder()
            .Transaction(0, new Fn(0, [], W("x", 1), W("y", 1)))
            .Transaction(1, new Fn(0, []), new Fn(1, [0], R("x", 1)), new Fn(2, [0], R("y", null)));
        var a = Flags(h, K.FracturedRead);
        Assert.Contains("not the initial value", a.Explanation);
        // As a plain workflow, the branches are concurrent and need not agree.
        Valid(new CausalHistoryBuilder()
            .Transaction(0, new Fn(0, [], W("x", 1), W("y", 1)))
            .Workflow(1, new Fn(0, []), new Fn(1, [0], R("x", 1)), new Fn(2, [0], R("y", null))));
    }

    [Fact]
    public void A_plain_workflow_that_sees_a_transaction_sees_all_its_writes()
    {
        // Once W2's x = 1 is seen, its commit is in the past, and with it y = 1: older y is a stale read.
        var a = Flags(TwoKeysWrittenTogether().Session(1, R("x", 1), R("y", 0)), K.WriteCORead);
        Assert.Contains("commit of W2", a.Explanation);
        // Read before seeing W2, the old y is fine for a plain workflow.
        Valid(TwoKeysWrittenTogether().Session(1, R("y", 0), R("x", 1)));
    }

    [Fact]
    public void Only_the_final_write_of_a_key_leaves_a_transaction()
    {
        // W1 writes x = 1, then (in a child) overwrites it with 2 and reads y; only x = 2 commits.
        static CausalHistoryBuilder Overwriting() => new CausalHistoryBuilder()
            .Transaction(0, new Fn(0, [], W("x", 1)), new Fn(1, [0], R("x", 1), W("x", 2)));
        var a = Flags(Overwriting().Session(1, R("x", 1)), K.IntermediateRead);
        Assert.Contains("W1/f0 op 0 w(x)=1", a.Explanation);
        Assert.Contains("W1/f1 op 1 w(x)=2", a.Explanation);
        Valid(Overwriting().Session(1, R("x", 2)));
        Valid(Overwriting().Transaction(1, new Fn(0, [], R("x", 2))));
        // Two concurrent branches writing one key: the higher index commits.
        var branches = new CausalHistoryBuilder().Transaction(0, new Fn(0, []), new Fn(1, [0], W("x", 1)), new Fn(2, [0], W("x", 2)));
        Valid(branches.Session(1, R("x", 2)));
        Flags(new CausalHistoryBuilder().Transaction(0, new Fn(0, []), new Fn(1, [0], W("x", 1)), new Fn(2, [0], W("x", 2))).Session(1, R("x", 1)), K.IntermediateRead);
        // Even when a lower branch read the higher one's buffered write and wrote over it: outside the transaction its
        // other writes of the key do not exist, so they overwrite nothing.
        Valid(new CausalHistoryBuilder()
            .Transaction(0, new Fn(0, [], R("x", 2), W("x", 1)), new Fn(1, [], W("x", 2)))
            .Session(0, R("x", 2))
            .Transaction(1, new Fn(0, [], R("x", 2))));
    }

    // W1 writes x = 1, W2 (same process, after it) x = 2; W3 reads x = 2 and writes y = 1: y = 1 has x = 2 in its past.
    private static CausalHistoryBuilder YDependsOnX2() => new CausalHistoryBuilder()
        .Session(0, W("x", 1))
        .Session(0, W("x", 2))
        .Session(1, R("x", 2), W("y", 1));

    [Fact]
    public void Reads_of_a_transaction_from_two_causal_cuts_are_a_non_snapshot_read()
    {
        // Parallel branches: as a plain workflow, valid (each branch has its own past); as a transaction, one snapshot.
        var a = Flags(YDependsOnX2().Transaction(2, new Fn(0, []), new Fn(1, [0], R("x", 1)), new Fn(2, [0], R("y", 1))), K.NonSnapshotRead);
        Assert.Contains("W4/f1 op 0 r(x)=1", a.Explanation);
        Assert.Contains("W2/f0 op 0 w(x)=2 overwrote it in the snapshot of its read-write transaction W4", a.Explanation);
        Assert.Contains("commit of W4", a.Explanation);
        Valid(YDependsOnX2().Workflow(2, new Fn(0, []), new Fn(1, [0], R("x", 1)), new Fn(2, [0], R("y", 1))));
        Valid(YDependsOnX2().Transaction(2, new Fn(0, []), new Fn(1, [0], R("x", 2)), new Fn(2, [0], R("y", 1))));
        // A later function, or the initial value: the same snapshot.
        Flags(YDependsOnX2().Transaction(2, new Fn(0, [], R("x", null)), new Fn(1, [0], R("y", 1))), K.NonSnapshotRead);
        Flags(YDependsOnX2().Transaction(2, new Fn(0, [], R("y", 1)), new Fn(1, [0], R("x", 1))), K.NonSnapshotRead);
    }

    [Fact]
    public void Two_reads_of_one_key_in_a_transaction_must_not_see_it_change()
    {
        var h = new CausalHistoryBuilder().Session(0, W("x", 1)).Session(0, W("x", 2));
        Flags(h.Transaction(1, new Fn(0, [], R("x", 1)), new Fn(1, [0], R("x", 2))), K.NonSnapshotRead);
        Valid(new CausalHistoryBuilder().Session(0, W("x", 1)).Session(0, W("x", 2)).Transaction(1, new Fn(0, [], R("x", 2)), new Fn(1, [0], R("x", 2))));
    }

    [Fact]
    public void A_transaction_s_snapshot_holds_its_session_s_past()
    {
        var h = new CausalHistoryBuilder().Session(0, W("x", 1)).Session(0, W("x", 2)).Session(1, R("x", 2));
        Flags(h.Transaction(1, new Fn(0, [], R("x", 1))), K.NonSnapshotRead);
    }

    [Fact]
    public void A_fan_out_fan_in_transaction_reading_one_snapshot_and_reading_its_own_writes_is_valid()
    {
        var h = YDependsOnX2()
            .Transaction(2,
                new Fn(0, [], R("x", 2)),
                new Fn(1, [0], R("y", 1), W("a", 1), R("a", 1)) { Server = 1 },
                new Fn(2, [0], R("z", null), W("b", 1)) { Server = 2 },
                new Fn(3, [1, 2], R("a", 1), R("b", 1), R("y", 1), W("c", 1)))
            .Session(3, R("c", 1), R("a", 1), R("b", 1));
        Valid(h);
        Assert.Equal(1, h.Check().Transactions);
        // Having seen c = 1, a reader sees a and b from the same commit.
        var stale = YDependsOnX2()
            .Transaction(2, new Fn(0, [], R("x", 2)), new Fn(1, [0], W("a", 1)), new Fn(2, [0], W("b", 1)), new Fn(3, [1, 2], W("c", 1)))
            .Session(3, R("c", 1), R("a", null));
        Flags(stale, K.WriteCOInitRead);
    }

    [Fact]
    public void A_transaction_reads_its_own_writes()
    {
        Valid(new CausalHistoryBuilder().Transaction(0, new Fn(0, [], W("x", 5)), new Fn(1, [0], R("x", 5))));
        // A branch that is not after the write reads the snapshot (or, valid too, the sibling's write).
        Valid(new CausalHistoryBuilder().Transaction(0, new Fn(0, []), new Fn(1, [0], W("x", 5)), new Fn(2, [0], R("x", null))));
        var a = Flags(new CausalHistoryBuilder().Transaction(0, new Fn(0, [], W("x", 5)), new Fn(1, [0], R("x", null))), K.WriteCOInitRead);
        Assert.Contains("its own transaction W1 wrote W1/f0 op 0 w(x)=5 before the read", a.Explanation);
        Flags(new CausalHistoryBuilder().Session(1, W("x", 1)).Transaction(0, new Fn(0, [], R("x", 1), W("x", 5)), new Fn(1, [0], R("x", 1))), K.WriteCORead);
        Flags(new CausalHistoryBuilder().Transaction(0, new Fn(0, [], W("x", 5)), new Fn(1, [0], W("x", 6)), new Fn(2, [1], R("x", 5))), K.WriteCORead);
    }

    [Fact]
    public void An_aborted_attempt_is_ignored_and_its_retry_is_checked()
    {
        // The aborted attempt read a fractured, non-snapshot mix and wrote z = 9; nobody saw z = 9; the retry is consistent.
        var h = TwoKeysWrittenTogether()
            .Transaction(1, new Fn(0, [], R("x", 1), R("y", 0)), new Fn(1, [0], W("z", 9)) { Ok = false })
            .Transaction(1, new Fn(0, [], R("x", 1), R("y", 1)), new Fn(1, [0], W("z", 10)))
            .Session(2, R("z", 10));
        Valid(h);
        Assert.Equal(1, h.Check().AbortedWorkflows);
        Flags(TwoKeysWrittenTogether()
            .Transaction(1, new Fn(0, [], R("x", 1)), new Fn(1, [0], W("z", 9)) { Ok = false })
            .Session(2, R("z", 9)), K.AbortedRead);
    }

    [Fact]
    public void Concurrent_transactions_need_not_see_each_other()
    {
        // W1 and W2 are concurrent; a transaction may see one, both or neither, and a key neither wrote from anywhere.
        var h = new CausalHistoryBuilder()
            .Transaction(0, new Fn(0, [], W("x", 1), W("z", 1)))
            .Transaction(1, new Fn(0, [], W("y", 1), W("z", 2)))
            .Transaction(2, new Fn(0, [], R("x", 1)), new Fn(1, [], R("y", 1)), new Fn(2, [], R("w", null)));
        CausalVerdict.Valid(h.Check());
        CausalVerdict.Valid(h.CheckReversed());
        // Under convergence, reading both writers' z in one snapshot and then seeing them the other way round elsewhere is a cycle.
        var split = new CausalHistoryBuilder()
            .Transaction(0, new Fn(0, [], W("x", 1), W("z", 1)))
            .Transaction(1, new Fn(0, [], W("y", 1), W("z", 2)))
            .Transaction(2, new Fn(0, [], R("x", 1), R("y", 1), R("z", 1)))
            .Transaction(3, new Fn(0, [], R("x", 1), R("y", 1), R("z", 2)));
        CausalVerdict.Valid(split.Check());
        CausalVerdict.Flags(split.Check(convergence: true), K.CyclicCF);
    }

    [Fact]
    public void Two_transactions_each_reading_the_other_s_write_are_a_causal_cycle()
    {
        // Their writes are visible only at commit, after all their reads: even on different keys and functions.
        var h = new CausalHistoryBuilder()
            .Transaction(0, new Fn(0, [], W("x", 1)), new Fn(1, [], R("y", 1)))
            .Transaction(1, new Fn(0, [], W("y", 1)), new Fn(1, [], R("x", 1)));
        var a = Flags(h, K.CyclicCO);
        Assert.Contains("a transaction commits after all its functions", a.Explanation);
        Valid(new CausalHistoryBuilder()
            .Workflow(0, new Fn(0, [], W("x", 1)), new Fn(1, [], R("y", 1)))
            .Workflow(1, new Fn(0, [], W("y", 1)), new Fn(1, [], R("x", 1))));
    }
}
