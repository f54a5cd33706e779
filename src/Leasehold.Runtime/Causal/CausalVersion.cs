namespace Leasehold.Runtime.Causal;

/// <summary>
/// A version of one key: its value, its vector clock and the dependencies it was written with (key →
/// clock of the version it depends on). Immutable; the C-cache holds merged versions, the I-cache
/// individual writes. A merged version's <see cref="Clock"/> is the join of every write merged into it;
/// <see cref="Writer"/> is the clock of the write whose value it holds (an individual write: its own).
/// </summary>
public sealed record CausalVersion(byte[]? Value, VectorClock Clock, Dependencies Deps, VectorClock? WriterClock = null)
{
    /// <summary>The version every server starts with for a key nobody wrote (or loaded from the store): clock zero.</summary>
    public static CausalVersion Initial(byte[]? value, int servers) => new(value, VectorClock.Zero(servers), Dependencies.None);

    public VectorClock Writer => WriterClock ?? Clock;

    /// <summary>
    /// §2's merge, corrected. The clock is the pointwise max. The value is the one whose write is last in
    /// one total order that extends happened-before (<see cref="VectorClock.CompareArbitration"/>: the sum of
    /// the entries, then lexicographic), compared on the writes' own clocks.
    /// <para>
    /// §2 compares the other write against the merged clock, and keeps the old value when the merged clock
    /// already dominates it — but a merged clock can dominate a write it never saw (it joins concurrent
    /// writes, and a head's clock absorbs entries it never depended on), so a write made after the held
    /// value, and read after by its own session, was lost: the causal checker found such stale reads in a
    /// real-thread run. Keeping the arbitration maximum of the writes merged makes every server that merged
    /// the same writes hold the same value (convergence), and a write is never beaten by one before it.
    /// </para>
    /// <para>
    /// The deps kept are the winning write's, not the pointwise union of every merged write's: the union
    /// grew without bound on a hot key, and each merge copied it. Nothing in the protocol reads a merged
    /// version's deps — integration follows the I-cache writes' own — and every write's deps are checked
    /// covered when it is merged, which, as C-cache versions never decrease, keeps the cut.
    /// </para>
    /// </summary>
    public CausalVersion Merge(CausalVersion other)
    {
        var clock = Clock.Join(other.Clock);
        if (VectorClock.CompareArbitration(other.Writer, Writer) > 0) return new CausalVersion(other.Value, clock, other.Deps, other.Writer);
        return ReferenceEquals(clock, Clock) ? this : new CausalVersion(Value, clock, Deps, Writer);
    }

    public override string ToString() => $"{Clock}";
}
