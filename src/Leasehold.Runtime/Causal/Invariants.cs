namespace Leasehold.Runtime.Causal;

/// <summary>
/// The invariants of causal.md §7. The per-operation ones (4, 6, 7, 8) run inside reads and writes when
/// <see cref="CausalOptions.CheckInvariants"/> is on; <see cref="CheckAll"/> checks the state-wide ones
/// (1, 2, 3, 5) and is meant to run after every step of a deterministic run. A violation throws
/// <see cref="CausalInvariantException"/> naming the server, the key and the clocks.
/// <para>
/// With a store, "the C-cache covers a key" reads <see cref="CacheServer.Covering"/>: for a key the server
/// has not loaded (evicted, or not read since a restart) the store's version counts too, because a read
/// there must load it first (the argument is on CacheServer.Store.cs). Without a store it is the C-cache alone.
/// </para>
/// </summary>
internal static class Invariants
{
    /// <summary>4, first half: when a read arrives, every dep is covered by the C-cache and I-cache together.</summary>
    public static void DepsCovered(CacheServer server, CausalSession session)
    {
        foreach (var (key, clock) in session.Deps)
        {
            var present = Present(server, key);
            if (!clock.LessOrEqual(present))
                throw new CausalInvariantException($"server {server.Id}: a read needs {key} at {clock}, but C ⊔ I holds only {present} (invariant 4)");
        }
    }

    /// <summary>4, second half: after integration, the C-cache covers every dep.</summary>
    public static void DepsIntegrated(CacheServer server, CausalSession session)
    {
        foreach (var (key, clock) in session.Deps)
            if (!clock.LessOrEqual(server.Covering(key)))
                throw new CausalInvariantException($"server {server.Id}: after integration {key} is at {server.Covering(key)}, below the needed {clock} (invariant 4)");
    }

    /// <summary>8 (and 1 for one version): everything a served version depends on is visible here too.</summary>
    public static void VersionCovered(CacheServer server, StateKey key, CausalVersion version)
    {
        foreach (var (dep, clock) in version.Deps)
            if (!clock.LessOrEqual(server.Covering(dep)))
                throw new CausalInvariantException($"server {server.Id}: {key} at {version.Clock} depends on {dep} at {clock}, but the C-cache has {server.Covering(dep)} (not a causal cut)");
    }

    /// <summary>The merge of a key's C-cache and I-cache clocks on a server: what it could make visible.</summary>
    public static VectorClock Present(CacheServer server, StateKey key)
    {
        var clock = server.Covering(key);
        if (server.ICache.TryGetValue(key, out var versions))
            foreach (var v in versions) clock = clock.Join(v.Clock);
        return clock;
    }

    /// <summary>
    /// 1: every C-cache is a causal cut; 3: every dep of every C-cache version is covered locally;
    /// 2: anything visible anywhere is present everywhere; 5: C-cache versions never decrease
    /// (<paramref name="previous"/> holds the clocks of the last check and is updated).
    /// </summary>
    public static void CheckAll(IReadOnlyList<CacheServer> servers, Dictionary<(int, StateKey), VectorClock> previous)
    {
        foreach (var server in servers)
            foreach (var (key, version) in server.CCache)
            {
                VersionCovered(server, key, version);
                foreach (var (dep, clock) in version.Deps)
                    if (!clock.LessOrEqual(Present(server, dep)))
                        throw new CausalInvariantException($"server {server.Id}: {key} depends on {dep} at {clock}, which is not even in its I-cache (invariant 3)");
                foreach (var other in servers)
                    if (!version.Clock.LessOrEqual(Present(other, key)))
                        throw new CausalInvariantException($"{key} at {version.Clock} is visible on server {server.Id} but server {other.Id} holds only {Present(other, key)} (invariant 2)");
                var now = server.Covering(key);
                if (previous.TryGetValue((server.Id, key), out var before) && !before.LessOrEqual(now))
                    throw new CausalInvariantException($"server {server.Id}: {key} went back from {before} to {now} (invariant 5)");
                previous[(server.Id, key)] = now;
            }
    }
}
