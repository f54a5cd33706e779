using Leasehold.Checkers.Causal;
using static Leasehold.Tests.Checkers.Causal.CausalHistoryBuilder;
using K = Leasehold.Checkers.Causal.CausalAnomalyKinds;

namespace Leasehold.Tests.Checkers.Causal;

/// <summary>
/// One hand-made history per bad pattern, each beside a valid history that only looks like it, so every
/// test fails if the checker flags too much or too little. Each is also checked with its records reversed.
/// </summary>
public class CausalCheckerTests
{
    private static CausalAnomaly Flags(CausalHistoryBuilder h, string kind, long count = 1, bool convergence = false)
    {
        CausalVerdict.Flags(h.CheckReversed(convergence), kind, count);
        return CausalVerdict.Flags(h.Check(convergence), kind, count);
    }

    private static void Valid(CausalHistoryBuilder h, bool convergence = false)
    {
        CausalVerdict.Valid(h.Check(convergence));
        CausalVerdict.Valid(h.CheckReversed(convergence));
        if (!convergence) CausalVerdict.Valid(h.Check(convergence: true)); // every valid CC case here converges too
    }

    [Fact]
    public void A_read_of_a_value_nobody_wrote_is_a_thin_air_read()
    {
        var h = new CausalHistoryBuilder()
            .Session(0, W("x", 1))
            .Session(1, R("x", 2));
        var a = Flags(h, K.ThinAirRead);
        Assert.Contains("W2/f0 op 0 r(x)=2", a.Explanation);
        Assert.Contains("nobody wrote", a.Explanation);
    }

    [Fact]
    public void The_same_value_under_another_key_is_still_thin_air()
    {
        Flags(new CausalHistoryBuilder().Session(0, W("x", 1)).Session(1, R("y", 1)), K.ThinAirRead);
        Valid(new CausalHistoryBuilder().Session(0, W("x", 1)).Session(1, R("x", 1)));
    }

    [Fact]
    public void A_read_of_a_write_of_an_aborted_workflow_is_an_aborted_read()
    {
        // W1's f0 wrote x = 1 and committed its function, but f1 failed: the whole workflow aborted.
        var h = new CausalHistoryBuilder()
            .Workflow(0, new Fn(0, [], W("x", 1)), new Fn(1, [0], R("y", null)) { Ok = false })
            .Session(1, R("x", 1));
        var a = Flags(h, K.AbortedRead);
        Assert.Contains("W1/f1", a.Explanation);
        Assert.Contains("aborted", a.Explanation);
        Assert.Equal(1, h.Check().AbortedWorkflows);
    }

    [Fact]
    public void An_aborted_workflow_is_not_in_anyone_s_causal_past()
    {
        // The aborted workflow's write is invisible, so reading the initial value afterwards is right, even in its own session.
        Valid(new CausalHistoryBuilder()
            .Workflow(0, new Fn(0, [], W("x", 1)) { Ok = false })
            .Session(0, R("x", null))
            .Session(1, R("x", null)));
    }

    [Fact]
    public void Two_sessions_each_reading_the_other_s_later_write_is_a_causal_cycle()
    {
        var h = new CausalHistoryBuilder()
            .Session(0, R("x", 1), W("y", 1))
            .Session(1, R("y", 1), W("x", 1));
        var a = Flags(h, K.CyclicCO);
        Assert.Contains("W1/f0 op 1 w(y)=1 → W2/f0 op 0 r(y)=1 (reads from)", a.Explanation);
        Assert.Contains("W2/f0 op 1 w(x)=1 → W1/f0 op 0 r(x)=1 (reads from)", a.Explanation);
    }

    [Fact]
    public void Two_sessions_each_writing_and_then_reading_the_other_s_write_is_valid()
    {
        // Whole functions as nodes would make this a cycle; it is not (both writes, then both reads).
        Valid(new CausalHistoryBuilder()
            .Session(0, W("y", 1), R("x", 1))
            .Session(1, W("x", 1), R("y", 1)));
    }

    [Fact]
    public void A_read_of_a_write_its_own_function_makes_later_is_a_causal_cycle()
    {
        var a = Flags(new CausalHistoryBuilder().Session(0, R("x", 5), W("x", 5)), K.CyclicCO);
        Assert.Contains("a write its own function makes later", a.Explanation);
        Valid(new CausalHistoryBuilder().Session(0, W("x", 5), R("x", 5)));
    }

    [Fact]
    public void A_read_of_a_write_of_a_child_function_or_a_later_workflow_is_a_causal_cycle()
    {
        Flags(new CausalHistoryBuilder().Workflow(0, new Fn(0, [], R("x", 5)), new Fn(1, [0], W("x", 5))), K.CyclicCO);
        var a = Flags(new CausalHistoryBuilder().Session(0, R("x", 5)).Session(0, W("x", 5)), K.CyclicCO);
        Assert.Contains("session: process 0's seq 0 completed before its next workflow began", a.Explanation);
        // A sibling branch may read it: the two functions are concurrent.
        Valid(new CausalHistoryBuilder().Workflow(0, new Fn(0, []), new Fn(1, [0], R("x", 5)), new Fn(2, [0], W("x", 5))));
    }

    [Fact]
    public void A_read_of_the_initial_value_after_seeing_a_write_of_the_key_is_WriteCOInitRead()
    {
        var h = new CausalHistoryBuilder()
            .Session(0, W("x", 1))
            .Session(1, R("x", 1), R("x", null));
        var a = Flags(h, K.WriteCOInitRead);
        Assert.Contains("W2/f0 op 1 r(x)=init", a.Explanation);
        Assert.Contains("W1/f0 op 0 w(x)=1 → W2/f0 op 0 r(x)=1 (reads from)", a.Explanation);
        // The other order is monotonic.
        Valid(new CausalHistoryBuilder().Session(0, W("x", 1)).Session(1, R("x", null), R("x", 1)));
    }

    [Fact]
    public void Writes_follow_reads_the_initial_value_is_gone_once_a_dependent_write_is_seen()
    {
        // p1 read x = 1 and then wrote y; whoever sees y has x = 1 in its causal past.
        var h = new CausalHistoryBuilder()
            .Session(0, W("x", 1))
            .Session(1, R("x", 1), W("y", 1))
            .Session(2, R("y", 1), R("x", null));
        Flags(h, K.WriteCOInitRead);
        // Without the read of x before the write of y, y does not depend on x.
        Valid(new CausalHistoryBuilder()
            .Session(0, W("x", 1))
            .Session(1, W("y", 1), R("x", 1))
            .Session(2, R("y", 1), R("x", null)));
    }

    [Fact]
    public void A_read_of_an_overwritten_value_is_WriteCORead()
    {
        // Monotonic reads: p1 saw 2, which overwrote 1 in p0's session, and then read 1.
        var h = new CausalHistoryBuilder()
            .Session(0, W("x", 1))
            .Session(0, W("x", 2))
            .Session(1, R("x", 2), R("x", 1));
        var a = Flags(h, K.WriteCORead);
        Assert.Contains("W3/f0 op 1 r(x)=1", a.Explanation);
        Assert.Contains("W1/f0 op 0 w(x)=1 →CO W2/f0 op 0 w(x)=2", a.Explanation);
        Assert.Contains("session", a.Explanation);
        Assert.Equal(3, a.Records.Count);
        Valid(new CausalHistoryBuilder()
            .Session(0, W("x", 1))
            .Session(0, W("x", 2))
            .Session(1, R("x", 1), R("x", 2)));
    }

    [Fact]
    public void Transitivity_a_write_that_read_an_older_one_overwrites_it_for_everyone_who_sees_it()
    {
        // p1 read 1 and wrote 2: 1 →CO 2. p2 saw 2 (through y) and then read 1.
        var h = new CausalHistoryBuilder()
            .Session(0, W("x", 1))
            .Session(1, R("x", 1), W("x", 2), W("y", 1))
            .Session(2, R("y", 1), R("x", 1));
        Flags(h, K.WriteCORead);
        // Concurrent writes: reading either is fine, in either order.
        Valid(new CausalHistoryBuilder()
            .Session(0, W("x", 1))
            .Session(1, W("x", 2), W("y", 1))
            .Session(2, R("y", 1), R("x", 1)));
    }

    [Fact]
    public void Read_your_writes_across_functions_on_different_servers()
    {
        // W2: f0 on server 0 reads 1 and writes 2; its child f1 runs on server 1 and must not read 1 again.
        var bad = new CausalHistoryBuilder()
            .Session(1, W("x", 1))
            .Workflow(0, new Fn(0, [], R("x", 1), W("x", 2)) { Server = 0 }, new Fn(1, [0], R("x", 1)) { Server = 1 });
        var a = Flags(bad, K.WriteCORead);
        Assert.Contains("W2/f0 op 1 w(x)=2", a.Explanation);
        Assert.Contains("parent → child", a.Explanation);
        // Nor the initial value, when f0 only wrote.
        Flags(new CausalHistoryBuilder().Workflow(0, new Fn(0, [], W("x", 2)) { Server = 0 }, new Fn(1, [0], R("x", null)) { Server = 1 }), K.WriteCOInitRead);
        // Reading its own write, or a concurrent write of another session, is fine.
        Valid(new CausalHistoryBuilder()
            .Session(1, W("x", 1))
            .Workflow(0, new Fn(0, [], R("x", 1), W("x", 2)) { Server = 0 }, new Fn(1, [0], R("x", 2)) { Server = 1 }));
        Valid(new CausalHistoryBuilder()
            .Session(1, W("x", 3))
            .Workflow(0, new Fn(0, [], W("x", 2)) { Server = 0 }, new Fn(1, [0], R("x", 3)) { Server = 1 }));
    }

    [Fact]
    public void Within_one_function_a_read_after_its_own_write_sees_it()
    {
        var a = Flags(new CausalHistoryBuilder().Session(1, W("x", 1)).Session(0, R("x", 1), W("x", 2), R("y", null), R("x", 1)), K.WriteCORead);
        Assert.Contains("W2/f0 op 1 w(x)=2 → W2/f0 op 2 r(y)=init (program order)", a.Explanation);
        var own = Flags(new CausalHistoryBuilder().Session(0, W("x", 1), W("x", 2), R("x", 1)), K.WriteCORead);
        Assert.Contains("W1/f0 op 0 w(x)=1 → W1/f0 op 1 w(x)=2 (program order)", own.Explanation);
        Flags(new CausalHistoryBuilder().Session(0, W("x", 2), R("x", null)), K.WriteCOInitRead);
        Valid(new CausalHistoryBuilder().Session(1, W("x", 1)).Session(0, R("x", 1), W("x", 2), R("x", 2)));
    }

    [Fact]
    public void A_fan_in_sees_both_branches()
    {
        // f1 and f2 run concurrently after f0; f3 joins them and must see both writes.
        var bad = new CausalHistoryBuilder().Workflow(0,
            new Fn(0, []), new Fn(1, [0], W("x", 1)) { Server = 1 }, new Fn(2, [0], W("y", 1)) { Server = 2 },
            new Fn(3, [1, 2], R("x", 1), R("y", null)) { Server = 3 });
        var a = Flags(bad, K.WriteCOInitRead);
        Assert.Contains("W1/f2 → W1/f3 (parent → child)", a.Explanation);
        Valid(new CausalHistoryBuilder().Workflow(0,
            new Fn(0, []), new Fn(1, [0], W("x", 1)), new Fn(2, [0], W("y", 1)), new Fn(3, [1, 2], R("x", 1), R("y", 1))));
    }

    [Fact]
    public void A_branch_of_a_fan_out_need_not_see_its_sibling()
    {
        // f2 is concurrent with f1: it may read the initial value; the fan-in f3 may not.
        var h = new CausalHistoryBuilder().Workflow(0,
            new Fn(0, []), new Fn(1, [0], W("x", 1)), new Fn(2, [0], R("x", null)));
        Valid(h);
        Flags(new CausalHistoryBuilder().Workflow(0,
            new Fn(0, []), new Fn(1, [0], W("x", 1)), new Fn(2, [0], R("x", null)), new Fn(3, [1, 2], R("x", null))), K.WriteCOInitRead);
    }

    [Fact]
    public void A_session_token_carries_every_function_of_a_workflow_into_the_next()
    {
        // seq 0 ends in two concurrent sinks; seq 1's root must see the writes of both.
        var bad = new CausalHistoryBuilder()
            .Workflow(0, new Fn(0, []), new Fn(1, [0], W("x", 1)), new Fn(2, [0], W("y", 1)))
            .Workflow(0, new Fn(0, [], R("x", 1)), new Fn(1, [0], R("y", null)));
        var a = Flags(bad, K.WriteCOInitRead);
        Assert.Contains("process 0's seq 0 completed before its next workflow began", a.Explanation);
        // Another process has no such guarantee.
        Valid(new CausalHistoryBuilder()
            .Workflow(0, new Fn(0, []), new Fn(1, [0], W("x", 1)), new Fn(2, [0], W("y", 1)))
            .Workflow(1, new Fn(0, [], R("x", 1)), new Fn(1, [0], R("y", null))));
        // And the order runs through seq: seq 2 must see seq 0's write even after seq 1 saw nothing new.
        Flags(new CausalHistoryBuilder().Session(0, W("x", 1)).Session(0, R("y", null)).Session(0, R("x", null)), K.WriteCOInitRead);
    }

    [Fact]
    public void Concurrent_writes_read_in_different_orders_are_causal_but_do_not_converge()
    {
        var h = new CausalHistoryBuilder()
            .Session(0, W("x", 1))
            .Session(1, W("x", 2))
            .Session(2, R("x", 1), R("x", 2))
            .Session(3, R("x", 2), R("x", 1));
        CausalVerdict.Valid(h.Check());
        var a = Flags(h, K.CyclicCF, convergence: true);
        Assert.Contains("conflict", a.Explanation);
        Assert.Contains("W1/f0 op 0 w(x)=1", a.Explanation);
        Assert.Contains("W2/f0 op 0 w(x)=2", a.Explanation);
        Assert.True(h.Check(convergence: true).ConflictEdges >= 2);
        // Read in the same order by both: converges.
        Valid(new CausalHistoryBuilder()
            .Session(0, W("x", 1))
            .Session(1, W("x", 2))
            .Session(2, R("x", 1), R("x", 2))
            .Session(3, R("x", 1), R("x", 2)), convergence: true);
    }

    [Fact]
    public void A_conflict_cycle_across_two_keys_fails_convergence()
    {
        // Each pair of concurrent writes is ordered one way by some reader, and the two orders together close a cycle
        // through causal order: w(x=1) < w(x=2) by p2, w(y=2) < w(y=1) by p3, with x=2 → y=2 and y=1 → x=1 in causal order.
        var h = new CausalHistoryBuilder()
            .Session(0, W("y", 1), W("x", 1))
            .Session(1, W("x", 2), W("y", 2))
            .Session(2, R("x", 1), R("x", 2))
            .Session(3, R("y", 2), R("y", 1));
        CausalVerdict.Valid(h.Check());
        Flags(h, K.CyclicCF, convergence: true);
    }

    [Fact]
    public void An_overwritten_read_is_reported_once_under_convergence_not_also_as_a_conflict_cycle()
    {
        var h = new CausalHistoryBuilder().Session(0, W("x", 1)).Session(0, W("x", 2)).Session(1, R("x", 2), R("x", 1));
        Flags(h, K.WriteCORead, convergence: true);
    }

    [Fact]
    public void A_cut_off_workflow_keeps_the_order_through_its_unrecorded_parent()
    {
        // W2's f1 was never recorded, but f2 names it as parent: f2 still follows seq 0 through it.
        var cut = new CausalHistoryBuilder().Session(0, W("x", 1));
        cut.Workflow(0, new Fn(0, [], W("y", 1)), new Fn(2, [1], R("x", null)));
        var r = cut.Check();
        CausalVerdict.Flags(r, K.WriteCOInitRead);
        Assert.Equal(1, r.MissingFunctions);
        // f0 → f1 is unknown (f1's parents went with its record), so f2 need not see f0's write.
        var partial = new CausalHistoryBuilder();
        partial.Workflow(0, new Fn(0, [], W("y", 1)), new Fn(2, [1], R("y", null)));
        Valid(partial);
    }

    [Fact]
    public void Counts_and_sizes_describe_the_history()
    {
        var h = new CausalHistoryBuilder()
            .Workflow(0, new Fn(0, [], R("x", null)), new Fn(1, [0], W("x", 1)), new Fn(2, [0], W("y", 1)), new Fn(3, [1, 2], R("x", 1), R("y", 1)))
            .Workflow(1, new Fn(0, [], R("x", 1)))
            .Workflow(1, new Fn(0, [], W("z", 1)) { Ok = false });
        var r = h.Check();
        CausalVerdict.Valid(r);
        Assert.Equal(2, r.Workflows);
        Assert.Equal(1, r.AbortedWorkflows);
        Assert.Equal(6, r.Functions);
        Assert.Equal(6, r.Ops);
        Assert.Equal(4, r.Reads);
        Assert.Equal(2, r.Writes);
        Assert.Equal(3, r.Chains); // process 0's widest workflow has two lanes, process 1 one
    }

    [Fact]
    public void Every_violation_is_counted_but_only_the_first_few_are_explained()
    {
        var h = new CausalHistoryBuilder();
        for (int i = 0; i < 20; i++) h.Session(i, R("x", 100 + i));
        var r = new CausalChecker(new CausalCheckerOptions { ExamplesPerKind = 3 }).Check(new CausalMemoryHistory(h.Records));
        Assert.Equal(20, r.Counts[K.ThinAirRead]);
        Assert.Equal(3, r.Examples.Count);
    }
}
