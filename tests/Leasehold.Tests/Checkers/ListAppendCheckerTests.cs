using Leasehold.Checkers.ListAppend;
using static Leasehold.Tests.Checkers.HistoryBuilder;

namespace Leasehold.Tests.Checkers;

/// <summary>
/// The checker on hand-made histories: one per anomaly kind it must flag as that kind, and valid
/// histories it must pass (testing.md, "Serializability checker", step 7).
/// </summary>
public class ListAppendCheckerTests
{
    private const long X = 1, Y = 2, Z = 3;

    // ---- Cycles -------------------------------------------------------------------------------------

    [Fact]
    public void G0_two_transactions_append_to_two_keys_in_opposite_orders()
    {
        var h = new HistoryBuilder()
            .T(0, 0, 2, Ok, Append(X, 1), Append(Y, 1))
            .T(1, 1, 3, Ok, Append(X, 2), Append(Y, 2))
            .T(2, 4, 5, Ok, Read(X, 1, 2), Read(Y, 2, 1));
        var r = h.Check();
        Verdict.Flags(r, AnomalyKinds.G0);
        ExplainsCycle(r, AnomalyKinds.G0, [h.Name(2), h.Name(3)], ["ww"], notKinds: ["wr", "rw", "rt"]);
        Assert.Equal(1, r.Counts[AnomalyKinds.G0]);
    }

    [Fact]
    public void G1a_a_read_of_a_failed_transactions_append()
    {
        var r = new HistoryBuilder()
            .T(0, 0, 1, Fail, Append(X, 1))
            .T(1, 2, 3, Ok, Read(X, 1))
            .Check(strict: true);
        Verdict.Flags(r, AnomalyKinds.G1a);
        Assert.Contains("failed", Verdict.Example(r, AnomalyKinds.G1a).Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void G1a_also_when_the_failed_completion_omits_its_value()
    {
        // Jepsen may write a fail without a value: the invocation says what it appended.
        var ops = new HistoryBuilder()
            .T(0, 0, 1, Fail, Append(X, 1))
            .T(1, 2, 3, Ok, Read(X, 1))
            .Build();
        ops[1] = ops[1] with { Value = [] };
        var r = new ListAppendChecker().Check(new Leasehold.Checkers.Histories.MemoryHistory(ops));
        Verdict.Flags(r, AnomalyKinds.G1a);
    }

    [Fact]
    public void G1b_a_read_of_an_intermediate_append()
    {
        var r = new HistoryBuilder()
            .Serial(Append(X, 1), Append(X, 2))
            .Serial(Read(X, 1))
            .Check(strict: true);
        Verdict.Flags(r, AnomalyKinds.G1b);
    }

    [Fact]
    public void G1c_a_cycle_of_ww_and_wr()
    {
        // T1 appends x=1 and reads T2's y=2; T2 appends y=2 and x=3 after T1's x=1.
        var h = new HistoryBuilder()
            .T(0, 0, 2, Ok, Append(X, 1), Read(Y, 2))
            .T(1, 1, 3, Ok, Append(Y, 2), Append(X, 3))
            .T(2, 4, 5, Ok, Read(X, 1, 3));
        var r = h.Check();
        Verdict.Flags(r, AnomalyKinds.G1c);
        ExplainsCycle(r, AnomalyKinds.G1c, [h.Name(2), h.Name(3)], ["ww", "wr"], notKinds: ["rw", "rt"]);
    }

    [Fact]
    public void G1c_a_cycle_of_wr_only()
    {
        var h = new HistoryBuilder()
            .T(0, 0, 2, Ok, Append(X, 1), Read(Y, 1))
            .T(1, 1, 3, Ok, Append(Y, 1), Read(X, 1));
        var r = h.Check();
        Verdict.Flags(r, AnomalyKinds.G1c);
        ExplainsCycle(r, AnomalyKinds.G1c, [h.Name(2), h.Name(3)], ["wr"], notKinds: ["ww", "rw", "rt"]);
    }

    [Fact]
    public void G_single_read_skew_has_exactly_one_rw_edge()
    {
        // T2 sees T1's y but not its x.
        var h = new HistoryBuilder()
            .T(0, 0, 3, Ok, Append(X, 1), Append(Y, 1))
            .T(1, 1, 2, Ok, Read(X), Read(Y, 1))
            .T(2, 4, 5, Ok, Read(X, 1), Read(Y, 1));
        var r = h.Check();
        Verdict.Flags(r, AnomalyKinds.GSingle);
        ExplainsCycle(r, AnomalyKinds.GSingle, [h.Name(2), h.Name(3)], ["wr", "rw"], notKinds: ["rt"]);
    }

    [Fact]
    public void G2_item_write_skew_has_two_rw_edges()
    {
        var h = new HistoryBuilder()
            .T(0, 0, 2, Ok, Read(X), Append(Y, 1))
            .T(1, 1, 3, Ok, Read(Y), Append(X, 1))
            .T(2, 4, 5, Ok, Read(X, 1), Read(Y, 1));
        var r = h.Check();
        Verdict.Flags(r, AnomalyKinds.G2Item);
        ExplainsCycle(r, AnomalyKinds.G2Item, [h.Name(2), h.Name(3)], ["rw"], notKinds: ["ww", "wr", "rt"]);
    }

    // ---- Real-time variants: serializable, but not in the order clients saw -------------------------

    [Fact]
    public void G0_realtime_a_later_transactions_append_ordered_first()
    {
        var h = new HistoryBuilder()
            .T(0, 0, 1, Ok, Append(X, 1))
            .T(1, 2, 3, Ok, Append(X, 2))
            .T(2, 4, 5, Ok, Read(X, 2, 1));
        Verdict.Valid(h.Check());
        var r = h.Check(strict: true);
        Verdict.Flags(r, AnomalyKinds.G0Realtime);
        ExplainsCycle(r, AnomalyKinds.G0Realtime, [h.Name(1), h.Name(3)], ["ww", "rt"], notKinds: ["wr", "rw"]);
    }

    [Fact]
    public void G1c_realtime_a_read_of_an_append_invoked_only_after_the_read_completed()
    {
        var h = new HistoryBuilder()
            .T(0, 0, 1, Ok, Read(X, 1))
            .T(1, 2, 3, Ok, Append(X, 1));
        Verdict.Valid(h.Check());
        var r = h.Check(strict: true);
        Verdict.Flags(r, AnomalyKinds.G1cRealtime);
        ExplainsCycle(r, AnomalyKinds.G1cRealtime, [h.Name(1), h.Name(3)], ["wr", "rt"], notKinds: ["ww", "rw"]);
    }

    [Fact]
    public void G_single_realtime_a_stale_read()
    {
        // T1 appends and completes; T2, invoked after, reads the old value; T3 sees the append.
        var h = new HistoryBuilder()
            .T(0, 0, 1, Ok, Append(X, 1))
            .T(1, 2, 3, Ok, Read(X))
            .T(2, 4, 5, Ok, Read(X, 1));
        Verdict.Valid(h.Check());
        var r = h.Check(strict: true);
        Verdict.Flags(r, AnomalyKinds.GSingleRealtime);
        ExplainsCycle(r, AnomalyKinds.GSingleRealtime, [h.Name(1), h.Name(3)], ["rw", "rt"], notKinds: ["ww", "wr"]);
    }

    [Fact]
    public void G2_item_realtime_two_rw_edges_closed_by_real_time()
    {
        // T3 overlaps T1 and T2, which are ordered in real time: T1 < T2 (rt), T2 rw→ T3 (y), T3 rw→ T1 (z).
        var h = new HistoryBuilder()
            .T(2, 0, 5, Ok, Append(Y, 1), Read(Z))
            .T(0, 1, 2, Ok, Append(Z, 1))
            .T(1, 3, 4, Ok, Read(Y))
            .T(3, 6, 7, Ok, Read(Y, 1), Read(Z, 1));
        Verdict.Valid(h.Check());
        var r = h.Check(strict: true);
        Verdict.Flags(r, AnomalyKinds.G2ItemRealtime);
        ExplainsCycle(r, AnomalyKinds.G2ItemRealtime, [h.Name(2), h.Name(4), h.Name(5)], ["rw", "rt"], notKinds: ["ww", "wr"]);
    }

    // ---- Found without the graph --------------------------------------------------------------------

    [Fact]
    public void Lost_update_two_committed_read_modify_writes_of_the_same_version()
    {
        var r = new HistoryBuilder()
            .T(0, 0, 2, Ok, Read(X), Append(X, 1))
            .T(1, 1, 3, Ok, Read(X), Append(X, 2))
            .Check();
        // A lost update is also a cycle of anti-dependencies: reported either way.
        Verdict.Flags(r, AnomalyKinds.LostUpdate, AnomalyKinds.GSingle, AnomalyKinds.G2Item);
        Assert.Equal(1, r.Counts[AnomalyKinds.LostUpdate]);
    }

    [Fact]
    public void Lost_update_when_a_later_read_shows_both_appends()
    {
        var r = new HistoryBuilder()
            .T(0, 0, 2, Ok, Read(X), Append(X, 1))
            .T(1, 1, 3, Ok, Read(X), Append(X, 2))
            .Serial(Read(X, 1, 2))
            .Check();
        Verdict.Flags(r, AnomalyKinds.LostUpdate, AnomalyKinds.GSingle);
    }

    [Fact]
    public void Internal_a_read_that_misses_its_own_append()
    {
        var r = new HistoryBuilder().Serial(Append(X, 1), Read(X)).Check();
        Verdict.Flags(r, AnomalyKinds.Internal);
    }

    [Fact]
    public void Internal_a_second_read_that_disagrees_with_the_first()
    {
        var r = new HistoryBuilder()
            .Serial(Append(X, 1))
            .Serial(Append(X, 2))
            .Serial(Read(X, 1, 2), Read(X, 1))
            .Check();
        Verdict.Flags(r, AnomalyKinds.Internal);
    }

    [Fact]
    public void Future_read_a_read_of_an_append_the_transaction_makes_later()
    {
        var r = new HistoryBuilder().Serial(Read(X, 1), Append(X, 1)).Check();
        Verdict.Flags(r, AnomalyKinds.FutureRead);
    }

    [Fact]
    public void Duplicate_elements_a_value_twice_in_one_read()
    {
        var r = new HistoryBuilder()
            .Serial(Append(X, 1))
            .Serial(Read(X, 1, 1))
            .Check(strict: true);
        Verdict.Flags(r, AnomalyKinds.DuplicateElements);
    }

    [Fact]
    public void Duplicate_appends_two_transactions_append_the_same_value_to_a_key()
    {
        var r = new HistoryBuilder()
            .Serial(Append(X, 1))
            .Serial(Append(X, 1))
            .Check(strict: true);
        Verdict.Flags(r, AnomalyKinds.DuplicateAppends);
    }

    [Fact]
    public void Duplicate_appends_are_flagged_even_when_one_of_them_failed()
    {
        var r = new HistoryBuilder()
            .Serial(Fail, Append(X, 1))
            .Serial(Append(X, 1))
            .Serial(Read(X, 1))
            .Check();
        // Reads of 1 cannot be attributed: the checker says so rather than guess.
        Verdict.FlagsAtLeast(r, AnomalyKinds.DuplicateAppends);
    }

    [Fact]
    public void Garbage_read_a_value_nobody_appended()
    {
        var r = new HistoryBuilder()
            .Serial(Append(X, 1))
            .Serial(Read(X, 1, 99))
            .Check(strict: true);
        Verdict.Flags(r, AnomalyKinds.GarbageRead);
        Assert.Contains("99", Verdict.Example(r, AnomalyKinds.GarbageRead).Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Garbage_read_of_a_key_nobody_appended_to()
    {
        var r = new HistoryBuilder().Serial(Read(Z, 5)).Check();
        Verdict.Flags(r, AnomalyKinds.GarbageRead);
    }

    [Fact]
    public void Incompatible_order_two_reads_neither_a_prefix_of_the_other()
    {
        var r = new HistoryBuilder()
            .T(0, 0, 2, Ok, Append(X, 1))
            .T(1, 1, 3, Ok, Append(X, 2))
            .Serial(Read(X, 1))
            .Serial(Read(X, 2))
            .Check();
        Verdict.Flags(r, AnomalyKinds.IncompatibleOrder);
    }

    [Fact]
    public void Every_kind_has_a_hand_made_history_here()
    {
        // Guards the list above: a kind added to the checker needs a case in this file.
        var covered = new[]
        {
            AnomalyKinds.G0, AnomalyKinds.G1a, AnomalyKinds.G1b, AnomalyKinds.G1c, AnomalyKinds.GSingle, AnomalyKinds.G2Item,
            AnomalyKinds.G0Realtime, AnomalyKinds.G1cRealtime, AnomalyKinds.GSingleRealtime, AnomalyKinds.G2ItemRealtime,
            AnomalyKinds.LostUpdate, AnomalyKinds.Internal, AnomalyKinds.FutureRead, AnomalyKinds.DuplicateElements,
            AnomalyKinds.DuplicateAppends, AnomalyKinds.GarbageRead, AnomalyKinds.IncompatibleOrder,
        };
        Assert.Equal(AnomalyKinds.All.OrderBy(k => k, StringComparer.Ordinal), covered.OrderBy(k => k, StringComparer.Ordinal));
    }

    [Fact]
    public void Counts_list_every_kind_and_examples_name_the_operations()
    {
        var r = new HistoryBuilder()
            .T(0, 0, 1, Fail, Append(X, 1))
            .T(1, 2, 3, Ok, Read(X, 1))
            .Check();
        Assert.Equal(AnomalyKinds.All, r.Counts.Keys);
        var example = Verdict.Example(r, AnomalyKinds.G1a);
        Assert.Equal([1L, 3L], example.Operations.Select(o => o.Index).Order());
        Assert.Equal(1, r.Failed);
        Assert.Equal(1, r.Committed);
    }

    // ---- Valid histories ----------------------------------------------------------------------------

    [Fact]
    public void A_serial_history_is_valid()
    {
        var h = new HistoryBuilder()
            .Serial(Read(X))
            .Serial(Append(X, 1), Append(Y, 1))
            .Serial(Read(X, 1), Append(X, 2), Read(Y, 1))
            .Serial(Append(Y, 2), Read(X, 1, 2))
            .Serial(Read(Y, 1, 2), Read(X, 1, 2), Read(Z));
        Verdict.Valid(h.Check());
        var strict = h.Check(strict: true);
        Verdict.Valid(strict);
        Assert.Equal(5, strict.Committed);
        Assert.True(strict.GraphEdges > 4, "a serial history with reads should still produce dependencies");
    }

    [Fact]
    public void Concurrent_but_serializable_transactions_are_valid_even_strictly()
    {
        // T2 overlaps T1 and reads before T1's append; T3 overlaps T1 and reads after it.
        var h = new HistoryBuilder()
            .T(0, 0, 5, Ok, Append(X, 1), Append(Y, 1))
            .T(1, 1, 2, Ok, Read(X), Read(Y))
            .T(2, 3, 4, Ok, Read(X, 1), Read(Y, 1))
            .T(3, 6, 7, Ok, Read(X, 1), Read(Y, 1), Append(X, 2))
            .T(4, 8, 9, Ok, Read(X, 1, 2));
        Verdict.Valid(h.Check());
        Verdict.Valid(h.Check(strict: true));
    }

    [Fact]
    public void Concurrent_transactions_may_be_ordered_against_their_invocation_order()
    {
        // T2 is invoked after T1 but they overlap, so T2 may come first: no real-time edge between them.
        var h = new HistoryBuilder()
            .T(0, 0, 3, Ok, Read(X, 2), Append(X, 1))
            .T(1, 1, 2, Ok, Append(X, 2))
            .Serial(Read(X, 2, 1));
        Verdict.Valid(h.Check(strict: true));
    }

    [Fact]
    public void An_info_transaction_whose_append_is_read_is_valid()
    {
        var h = new HistoryBuilder()
            .T(0, 0, 1, Info, Append(X, 1))
            .T(1, 2, 3, Ok, Read(X, 1))
            .T(2, 4, 5, Ok, Read(X, 1), Append(X, 2))
            .Serial(Read(X, 1, 2));
        var r = h.Check(strict: true);
        Verdict.Valid(r);
        Assert.Equal(1, r.Unknown);
        Assert.Equal(1, r.UnknownObserved);
    }

    [Fact]
    public void An_info_transaction_whose_append_is_never_read_is_valid()
    {
        var h = new HistoryBuilder()
            .T(0, 0, 1, Info, Append(X, 1))
            .T(1, 2, 3, Ok, Read(X))
            .T(2, 4, 5, Ok, Append(X, 2))
            .Serial(Read(X, 2));
        var r = h.Check(strict: true);
        Verdict.Valid(r);
        Assert.Equal(1, r.Unknown);
        Assert.Equal(0, r.UnknownObserved);
    }

    [Fact]
    public void An_info_transaction_may_commit_after_its_info_completion()
    {
        // The info completion is not a point in real time: T1 may take effect after T2 read.
        var h = new HistoryBuilder()
            .T(0, 0, 1, Info, Append(X, 1))
            .T(1, 2, 3, Ok, Read(X))
            .T(2, 4, 5, Ok, Read(X, 1));
        Verdict.Valid(h.Check(strict: true));
    }

    [Fact]
    public void An_observed_info_transaction_is_still_ordered_after_what_completed_before_its_invocation()
    {
        // T1 completed before info T2 was invoked, so T2's append comes after T1's.
        var h = new HistoryBuilder()
            .T(0, 0, 1, Ok, Append(X, 1))
            .T(1, 2, 3, Info, Append(X, 2))
            .Serial(Read(X, 2, 1));
        Verdict.Valid(h.Check());
        Verdict.FlagsAtLeast(h.Check(strict: true), AnomalyKinds.G0Realtime);
    }

    [Fact]
    public void Failed_transactions_whose_appends_are_never_read_are_valid()
    {
        var h = new HistoryBuilder()
            .Serial(Append(X, 1))
            .Serial(Fail, Append(X, 2), Read(Y))
            .Serial(Read(X, 1), Append(X, 3))
            .Serial(Fail, Read(X))
            .Serial(Read(X, 1, 3));
        var r = h.Check(strict: true);
        Verdict.Valid(r);
        Assert.Equal(2, r.Failed);
    }

    [Fact]
    public void Reads_of_empty_lists_are_valid()
    {
        var h = new HistoryBuilder()
            .Serial(Read(X), Read(Y))
            .T(0, 10, 13, Ok, Read(X))
            .T(1, 11, 12, Ok, Read(Z), Read(X));
        Verdict.Valid(h.Check(strict: true));
    }

    [Fact]
    public void Invocations_still_in_flight_at_the_end_are_valid()
    {
        var h = new HistoryBuilder()
            .Serial(Append(X, 1))
            .T(0, 10, null, Ok, Append(X, 2))
            .T(1, 11, 12, Ok, Read(X, 1, 2))
            .T(2, 13, null, Ok, Append(Y, 1), Read(X))
            .T(3, 14, null, Ok, Append(Y, 2));
        var r = h.Check(strict: true);
        Verdict.Valid(r);
        Assert.Equal(3, r.Unknown);
        Assert.Equal(1, r.UnknownObserved);
    }

    [Fact]
    public void Several_micro_operations_on_one_key_that_agree_are_valid()
    {
        var h = new HistoryBuilder()
            .Serial(Read(X), Append(X, 1), Read(X, 1), Append(X, 2), Read(X, 1, 2))
            .Serial(Append(X, 3), Read(X, 1, 2, 3), Append(X, 4), Append(X, 5), Read(X, 1, 2, 3, 4, 5))
            .Serial(Read(X, 1, 2, 3, 4, 5));
        Verdict.Valid(h.Check(strict: true));
    }

    [Fact]
    public void A_transaction_that_appends_twice_to_a_key_is_valid_when_read_whole()
    {
        var h = new HistoryBuilder()
            .Serial(Append(X, 1), Append(Y, 1), Append(X, 2))
            .Serial(Read(X, 1, 2), Append(X, 3))
            .Serial(Read(X, 1, 2, 3), Read(Y, 1));
        Verdict.Valid(h.Check(strict: true));
    }

    [Fact]
    public void An_empty_history_and_empty_transactions_are_valid()
    {
        Verdict.Valid(new HistoryBuilder().Check(strict: true));
        Verdict.Valid(new HistoryBuilder().Serial().Serial(Fail).Check(strict: true));
    }

    // ---- Helpers ------------------------------------------------------------------------------------

    /// <summary>The example of <paramref name="kind"/> names every transaction of the cycle and each edge kind in it.</summary>
    internal static void ExplainsCycle(CheckResult r, string kind, string[] txns, string[] kinds, string[]? notKinds = null)
    {
        string text = Verdict.Example(r, kind).Explanation;
        Assert.StartsWith($"{kind} cycle of {txns.Length} transactions", text, StringComparison.Ordinal);
        foreach (string t in txns)
            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(text, $@"\b{t}\b"), $"{t} is not named in:\n{text}");
        foreach (string k in kinds) Assert.Contains($"({k})", text, StringComparison.Ordinal);
        foreach (string k in notKinds ?? []) Assert.DoesNotContain($"({k})", text, StringComparison.Ordinal);
    }
}
