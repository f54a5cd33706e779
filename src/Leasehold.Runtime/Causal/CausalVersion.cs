namespace Leasehold.Runtime.Causal;

/// <summary>
/// A version of one key: its value, its vector clock and the dependencies it was written with (key →
/// clock of the version it depends on). Immutable; the C-cache holds merged versions, the I-cache
/// individual writes.
/// </summary>
public sealed record CausalVersion(byte[]? Value, VectorClock Clock, IReadOnlyDictionary<StateKey, VectorClock> Deps)
{
    private static readonly IReadOnlyDictionary<StateKey, VectorClock> NoDeps = new Dictionary<StateKey, VectorClock>();

    /// <summary>The version every server starts with for a key nobody wrote (or loaded from the store): clock zero.</summary>
    public static CausalVersion Initial(byte[]? value, int servers) => new(value, VectorClock.Zero(servers), NoDeps);

    /// <summary>
    /// §2's merge: the clock is the pointwise max; the value is the other's when this happened before it,
    /// or when they are concurrent and the other's clock is lexicographically larger.
    /// <para>
    /// The deps kept are the winning write's, not the pointwise union of every merged write's (a
    /// correction to §2): the union grew without bound on a hot key, and each merge copied it (a tenth
    /// of the throughput went there). Nothing in the protocol reads a merged version's deps — integration
    /// follows the I-cache writes' own — and every write's deps are checked covered when it is merged,
    /// which, as C-cache versions never decrease, keeps the cut.
    /// </para>
    /// </summary>
    public CausalVersion Merge(CausalVersion other)
    {
        if (other.Clock.LessOrEqual(Clock)) return this;
        bool otherWins = Clock.StrictlyLess(other.Clock) || other.Clock.CompareLexicographic(Clock) > 0;
        return otherWins ? new CausalVersion(other.Value, Clock.Join(other.Clock), other.Deps) : new CausalVersion(Value, Clock.Join(other.Clock), Deps);
    }

    public override string ToString() => $"{Clock}";
}
