using Leasehold.Baselines.Causal.Versioned;

namespace Leasehold.Baselines.Causal.HydroCache;

/// <summary>
/// What a HydroCache client carries from one workflow to the next (immutable): exact versions a later
/// workflow must not go back before. hydro-opt keeps its last transaction's writes (each needs everything
/// the session saw before, so installing them installs that too), or, after read-only workflows, what they
/// read. hydro-con keeps its own writes until some cache reports them installed (from then on the join of
/// the caches' cuts holds them).
/// </summary>
internal sealed record HydroSession(IReadOnlyList<StoredVersion> Frontier)
{
    public static readonly HydroSession Empty = new([]);

    public static HydroSession Of(object? baseline) => baseline as HydroSession ?? Empty;
}
