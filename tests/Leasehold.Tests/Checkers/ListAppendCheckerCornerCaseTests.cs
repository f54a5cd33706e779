using Leasehold.Checkers.ListAppend;
using static Leasehold.Tests.Checkers.HistoryBuilder;

namespace Leasehold.Tests.Checkers;

/// <summary>The checker's corner cases, and anomalies it must not miss.</summary>
public class ListAppendCheckerCornerCaseTests
{
    private const long X = 1, Y = 2, Z = 3;

    // ---- Regressions: anomalies once missed because an append nobody read had no place in the graph ----

    [Fact]
    public void A_stale_read_of_an_append_nobody_else_reads_is_not_strictly_serializable()
    {
        // Once missed: x's version order came only from reads, all of them [], so T1's append had no rw edge.
        var h = new HistoryBuilder()
            .T(0, 0, 1, Ok, Append(X, 1))
            .T(1, 2, 3, Ok, Read(X));
        Verdict.Valid(h.Check());
        var r = h.Check(strict: true);
        Verdict.Flags(r, AnomalyKinds.GSingleRealtime);
        ListAppendCheckerTests.ExplainsCycle(r, AnomalyKinds.GSingleRealtime, [h.Name(1), h.Name(3)], ["rw", "rt"]);
        Assert.Contains("nobody read", Verdict.Example(r, AnomalyKinds.GSingleRealtime).Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_skew_whose_appends_nobody_reads_is_not_serializable()
    {
        // Once missed: each reads [] of the key the other appends to; one of them must have seen the other.
        var h = new HistoryBuilder()
            .T(0, 0, 2, Ok, Read(X), Append(Y, 1))
            .T(1, 1, 3, Ok, Read(Y), Append(X, 1));
        var r = h.Check();
        Verdict.Flags(r, AnomalyKinds.G2Item);
        ListAppendCheckerTests.ExplainsCycle(r, AnomalyKinds.G2Item, [h.Name(2), h.Name(3)], ["rw"]);
    }

    [Fact]
    public void Read_skew_whose_missed_append_nobody_reads_is_not_serializable()
    {
        // Once missed: T2 sees T1's y but not its x, and no read ever shows x.
        var h = new HistoryBuilder()
            .T(0, 0, 3, Ok, Append(X, 1), Append(Y, 1))
            .T(1, 1, 2, Ok, Read(X), Read(Y, 1));
        Verdict.Flags(h.Check(), AnomalyKinds.GSingle);
    }

    [Fact]
    public void A_read_of_a_later_append_without_the_same_transactions_earlier_one_is_flagged()
    {
        // W appends 1 then 2 to x; a read [2] sees part of W: read skew inside one key. Once missed.
        var r = new HistoryBuilder()
            .Serial(Append(X, 1), Append(X, 2))
            .Serial(Read(X, 2))
            .Check();
        Verdict.Flags(r, AnomalyKinds.GSingle);
    }

    [Fact]
    public void A_read_that_continues_past_an_intermediate_append_is_G1b()
    {
        // W appends 1 then 2; T3's 3 follows W's 1 directly, so somebody saw W's intermediate [1]. Once missed:
        // only a read ending in an intermediate append was checked.
        var r = new HistoryBuilder()
            .Serial(Append(X, 1), Append(X, 2))
            .Serial(Append(X, 3))
            .Serial(Read(X, 1, 3))
            .Check();
        Verdict.Flags(r, AnomalyKinds.G1b);
        Assert.Contains("followed by 3", Verdict.Example(r, AnomalyKinds.G1b).Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_read_with_a_transactions_appends_in_reverse_order_is_G1b()
    {
        // Once missed when another append followed: [2 1 3] has W's 1 followed by 3, not by W's 2.
        var r = new HistoryBuilder()
            .Serial(Append(X, 1), Append(X, 2))
            .Serial(Append(X, 3))
            .Serial(Read(X, 2, 1, 3))
            .Check();
        Verdict.FlagsAtLeast(r, AnomalyKinds.G1b);
    }

    [Fact]
    public void A_read_of_an_intermediate_append_is_G1b_only()
    {
        // With appends nobody read now in the graph, the classic intermediate read must stay G1b (not also a cycle).
        var r = new HistoryBuilder()
            .Serial(Append(X, 1), Append(X, 2), Append(X, 3))
            .Serial(Read(X, 1, 2))
            .Check(strict: true);
        Verdict.Flags(r, AnomalyKinds.G1b);
        Assert.Equal(1, r.Counts[AnomalyKinds.G1b]);
    }

    [Fact]
    public void Appends_nobody_reads_give_no_false_cycle_between_overlapping_transactions()
    {
        // The reader overlaps the appender: it may come first.
        var h = new HistoryBuilder()
            .T(0, 0, 3, Ok, Read(X))
            .T(1, 1, 2, Ok, Append(X, 1))
            .T(2, 4, 5, Ok, Append(Y, 1), Read(Y, 1))
            .T(3, 6, 7, Ok, Read(Y, 1), Append(Y, 2));
        Verdict.Valid(h.Check(strict: true));
    }

    [Fact]
    public void Appends_nobody_reads_of_failed_and_unknown_transactions_constrain_nothing()
    {
        var h = new HistoryBuilder()
            .T(0, 0, 1, Fail, Append(X, 1))
            .T(1, 2, 3, Info, Append(X, 2))
            .T(2, 4, null, Ok, Append(X, 3))
            .T(3, 5, 6, Ok, Read(X));
        Verdict.Valid(h.Check(strict: true));
    }

    [Fact]
    public void An_unknown_transaction_seen_on_one_key_committed_its_append_to_another()
    {
        // Info T1's y is read, so it committed; its x append then must be visible to T3, invoked after T2 saw y.
        var h = new HistoryBuilder()
            .T(0, 0, 1, Info, Append(X, 1), Append(Y, 1))
            .T(1, 2, 3, Ok, Read(Y, 1))
            .T(2, 4, 5, Ok, Read(X));
        Verdict.Valid(h.Check());
        Verdict.Flags(h.Check(strict: true), AnomalyKinds.GSingleRealtime);
    }

    [Fact]
    public void A_write_skew_inside_a_large_real_time_component_is_still_reported_as_G2_item()
    {
        // A and B write-skew (a cycle of two rw edges, no real time). Twenty short transactions run inside
        // them, chained by real time, and join the same component: B ww→ S1 rt→ … rt→ S20 rw→ A. Once, with
        // --strict, only the first 16 transactions of the component were tried as starts for a cycle without
        // real-time edges; they were all S's, so the write skew was reported as G2-item-realtime, which claims
        // "serializable, but not in real-time order" about a history that is not serializable at all.
        var h = new HistoryBuilder()
            .T(0, 0, 200, Ok, Read(X), Append(Y, 1))
            .T(1, 1, 201, Ok, Read(Y), Append(X, 1))
            .T(2, 10, 11, Ok, Append(X, 2));
        for (int i = 2; i < 20; i++) h.T(2, 10 + 2 * i, 11 + 2 * i, Ok, Append(Z, i));
        h.T(2, 60, 61, Ok, Read(Y));
        h.T(3, 202, 203, Ok, Read(X, 1, 2));
        Verdict.FlagsAtLeast(h.Check(), AnomalyKinds.G2Item);
        var r = h.Check(strict: true);
        Verdict.Flags(r, AnomalyKinds.G2Item);
        ListAppendCheckerTests.ExplainsCycle(r, AnomalyKinds.G2Item, [h.Name(200), h.Name(201)], ["rw"], notKinds: ["rt"]);
    }

    // ---- Real time: overlapping transactions get no rt edge --------------------------------------------

    [Fact]
    public void Only_transactions_that_completed_before_an_invocation_precede_it()
    {
        // T1 [0,2]; T2 [1,4] overlaps T1 and may read before it; T3 [3,5] was invoked after T1 completed.
        var h = new HistoryBuilder()
            .T(0, 0, 2, Ok, Append(X, 1))
            .T(1, 1, 4, Ok, Read(X))
            .T(2, 3, 5, Ok, Read(X, 1))
            .Serial(Read(X, 1));
        Verdict.Valid(h.Check(strict: true));

        var stale = new HistoryBuilder()
            .T(0, 0, 2, Ok, Append(X, 1))
            .T(1, 1, 4, Ok, Read(X, 1))
            .T(2, 3, 5, Ok, Read(X))
            .Serial(Read(X, 1));
        Verdict.Flags(stale.Check(strict: true), AnomalyKinds.GSingleRealtime);
    }

    [Fact]
    public void Many_completions_then_many_invocations_share_time_nodes_correctly()
    {
        // Three appends complete, three reads are invoked, all overlapping each other in the second group.
        var h = new HistoryBuilder()
            .T(0, 0, 3, Ok, Append(X, 1))
            .T(1, 1, 4, Ok, Append(Y, 1))
            .T(2, 2, 5, Ok, Append(Z, 1))
            .T(3, 6, 10, Ok, Read(X, 1), Read(Y, 1))
            .T(4, 7, 11, Ok, Read(Y, 1), Read(Z, 1))
            .T(5, 8, 12, Ok, Read(Z, 1), Read(X, 1))
            .T(0, 9, 13, Ok, Append(X, 2));
        Verdict.Valid(h.Check(strict: true));
        // …and each later reader is ordered after each earlier append: one stale read anywhere is caught.
        for (int reader = 0; reader < 3; reader++)
        {
            var b = new HistoryBuilder()
                .T(0, 0, 3, Ok, Append(X, 1))
                .T(1, 1, 4, Ok, Append(Y, 1))
                .T(2, 2, 5, Ok, Append(Z, 1));
            for (int i = 0; i < 3; i++)
                b.T(3 + i, 6 + i, 10 + i, Ok, i == reader ? Read(X) : Read(X, 1), Read(Y, 1), Read(Z, 1));
            Verdict.Flags(b.Check(strict: true), AnomalyKinds.GSingleRealtime);
        }
    }

    [Fact]
    public void A_process_completing_and_invoking_again_is_ordered_by_real_time()
    {
        var h = new HistoryBuilder()
            .T(0, 0, 1, Ok, Append(X, 1))
            .T(0, 2, 3, Ok, Read(X))
            .Serial(Read(X, 1));
        Verdict.Flags(h.Check(strict: true), AnomalyKinds.GSingleRealtime);
    }

    // ---- Reads inside a transaction after its own appends ----------------------------------------------

    [Fact]
    public void A_read_after_its_own_append_sees_earlier_commits_then_its_own()
    {
        var h = new HistoryBuilder()
            .Serial(Append(X, 1))
            .Serial(Append(X, 2), Read(X, 1, 2))
            .Serial(Read(X, 1, 2));
        Verdict.Valid(h.Check(strict: true));
    }

    [Fact]
    public void A_read_after_its_own_append_that_puts_it_before_an_earlier_commit_is_flagged()
    {
        // T2 appends 2 and reads [2 1]: its own append is not last.
        Verdict.Flags(new HistoryBuilder()
            .Serial(Append(X, 1))
            .Serial(Append(X, 2), Read(X, 2, 1))
            .Check(), AnomalyKinds.Internal, AnomalyKinds.G1c, AnomalyKinds.G0, AnomalyKinds.FutureRead);
    }

    [Fact]
    public void A_read_after_its_own_append_that_misses_an_earlier_commit_is_stale_in_real_time()
    {
        // T2's internal read [2] says x was empty before it: T1, completed before T2 began, is missing.
        var h = new HistoryBuilder()
            .Serial(Append(X, 1))
            .Serial(Append(X, 2), Read(X, 2));
        Verdict.Valid(h.Check());
        Verdict.FlagsAtLeast(h.Check(strict: true), AnomalyKinds.GSingleRealtime);
    }

    [Fact]
    public void A_transaction_reading_its_own_intermediate_append_is_fine()
    {
        var h = new HistoryBuilder()
            .Serial(Append(X, 1), Read(X, 1), Append(X, 2), Read(X, 1, 2))
            .Serial(Read(X, 1, 2));
        Verdict.Valid(h.Check(strict: true));
    }

    [Fact]
    public void An_unknown_transactions_intermediate_append_read_is_G1b()
    {
        var r = new HistoryBuilder()
            .T(0, 0, 1, Info, Append(X, 1), Append(X, 2))
            .Serial(Read(X, 1))
            .Check();
        Verdict.Flags(r, AnomalyKinds.G1b);
    }

    [Fact]
    public void The_same_value_appended_twice_by_one_transaction_is_a_duplicate_append()
    {
        Verdict.Flags(new HistoryBuilder().Serial(Append(X, 1), Append(X, 1)).Check(), AnomalyKinds.DuplicateAppends);
    }

    [Fact]
    public void The_same_value_appended_to_different_keys_is_fine()
    {
        var h = new HistoryBuilder()
            .Serial(Append(X, 1), Append(Y, 1))
            .Serial(Append(Y, 2), Append(X, 2))
            .Serial(Read(X, 1, 2), Read(Y, 1, 2));
        Verdict.Valid(h.Check(strict: true));
    }

    [Fact]
    public void Keys_read_but_never_appended_are_fine_when_empty()
    {
        var h = new HistoryBuilder()
            .Serial(Read(Z))
            .Serial(Read(Z), Append(X, 1))
            .Serial(Read(Z), Read(X, 1));
        Verdict.Valid(h.Check(strict: true));
    }

    [Fact]
    public void A_read_of_a_failed_transactions_intermediate_append_is_G1a()
    {
        var r = new HistoryBuilder()
            .Serial(Fail, Append(X, 1), Append(X, 2))
            .Serial(Read(X, 1))
            .Check();
        Verdict.FlagsAtLeast(r, AnomalyKinds.G1a);
    }

    [Fact]
    public void Negative_and_large_keys_and_values_are_fine()
    {
        var h = new HistoryBuilder()
            .Serial(Append(-5, long.MinValue), Append(long.MaxValue, -1))
            .Serial(Read(-5, long.MinValue), Read(long.MaxValue, -1), Append(-5, 0))
            .Serial(Read(-5, long.MinValue, 0));
        Verdict.Valid(h.Check(strict: true));
    }

    [Fact]
    public void A_stale_read_is_explained_by_its_two_transaction_real_time_cycle_however_many_time_nodes_lie_between()
    {
        // Regression: cycles were shortest in edges, so a run of real-time edges through several time nodes
        // (one per completion after an invocation) counted as several steps, and the stale read below was
        // explained through the long-running T3 (T1 wr→ T3 rt→ T2) instead of by T1 completing before T2.
        var h = new HistoryBuilder()
            .T(0, 0, 1, Ok, Append(X, 1))
            .T(1, 2, 30, Ok, Read(X, 1));
        for (int t = 3; t < 13; t += 2) h.T(10 + t, t, t + 1, Ok, Read(Z)); // completions after invocations: time nodes
        h.T(2, 31, 32, Ok, Read(X));
        Verdict.Valid(h.Check());
        var r = h.Check(strict: true);
        Verdict.Flags(r, AnomalyKinds.GSingleRealtime);
        ListAppendCheckerTests.ExplainsCycle(r, AnomalyKinds.GSingleRealtime, [h.Name(1), h.Name(32)], ["rw", "rt"], notKinds: ["wr", "ww"]);
    }

    [Fact]
    public void A_duplicated_element_in_the_longest_read_is_reported_as_such_and_makes_no_false_cycle()
    {
        // Regression: the read [1 2 1] became key x's version order, so its ww edges T1 → T2 → T1 made a G0 and the
        // read [1] an rw edge to the appender of 2... and of 1, "without 1". Only the duplicate is real.
        var r = new HistoryBuilder()
            .Serial(Append(X, 1))
            .Serial(Append(X, 2))
            .Serial(Read(X, 1))
            .Serial(Read(X, 1, 2, 1))
            .Check(strict: true);
        Verdict.Flags(r, AnomalyKinds.DuplicateElements);
    }
}
