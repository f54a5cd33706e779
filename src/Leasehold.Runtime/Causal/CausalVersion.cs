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
    /// or when they are concurrent and the other's clock is lexicographically larger; deps merge pointwise.
    /// </summary>
    public CausalVersion Merge(CausalVersion other)
    {
        if (other.Clock.LessOrEqual(Clock) && other.Deps.Count == 0) return this;
        bool otherWins = Clock.StrictlyLess(other.Clock) || (Clock.ConcurrentWith(other.Clock) && other.Clock.CompareLexicographic(Clock) > 0);
        return new CausalVersion(otherWins ? other.Value : Value, Clock.Join(other.Clock), MergeDeps(Deps, other.Deps));
    }

    public static IReadOnlyDictionary<StateKey, VectorClock> MergeDeps(IReadOnlyDictionary<StateKey, VectorClock> a, IReadOnlyDictionary<StateKey, VectorClock> b)
    {
        if (b.Count == 0) return a;
        if (a.Count == 0) return b;
        var merged = new Dictionary<StateKey, VectorClock>(a);
        foreach (var (key, clock) in b)
            merged[key] = merged.TryGetValue(key, out var mine) ? mine.Join(clock) : clock;
        return merged;
    }

    public override string ToString() => $"{Clock}";
}
