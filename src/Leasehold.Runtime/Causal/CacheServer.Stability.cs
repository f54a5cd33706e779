namespace Leasehold.Runtime.Causal;

/// <summary>
/// Keeping a session's metadata bounded (an addition to §5, which only compacts deps per key: a
/// session carried across many workflows still collected every key it ever read, and every write
/// carried all of it). With eager integration, a write's stable notice reaching its last server means
/// every server has integrated it; writes of one head complete in the order of their own clock entry
/// (one FIFO path), so "every write of head h up to entry c is integrated everywhere" is one number per
/// head. That vector travels on every ring message. A dep or own write whose clock is ≤ it is visible
/// on every server already — it can force nothing more — so it is dropped from the session.
/// </summary>
internal sealed partial class CacheServer
{
    private long[]? _stable;
    private VectorClock? _stableSnapshot;

    private long[] StableEntries => _stable ??= new long[Servers];

    private VectorClock StableSnapshot() => _stableSnapshot ??= VectorClock.Of(StableEntries);

    private void LearnStable(VectorClock stable)
    {
        var mine = StableEntries;
        for (int i = 0; i < mine.Length; i++)
            if (stable[i] > mine[i])
            {
                mine[i] = stable[i];
                _stableSnapshot = null;
            }
    }

    /// <summary>Only sound when every server integrates on the stable notice: otherwise "the notice went round" proves nothing.</summary>
    private void MarkStable(int head, VectorClock clock)
    {
        if (!_options.EagerIntegration) return;
        var mine = StableEntries;
        if (clock[head] > mine[head])
        {
            mine[head] = clock[head];
            _stableSnapshot = null;
        }
    }

    private static void Lower(CausalSession session, VectorClock clock) => session.Floor = session.Floor is null ? clock : session.Floor.Join(clock);

    /// <summary>Drops what every server shows already from a session arriving here; returns how many entries went.</summary>
    public int Prune(CausalSession session)
    {
        if (_stable is null) return 0;
        var stable = StableSnapshot();
        // A read-write transaction reads its snapshot, not the C-cache: an own write that became stable after the
        // snapshot was taken is visible everywhere but not in the snapshot, so only the session still shows it.
        var snapshot = session.Snapshot;
        bool Prunable(VectorClock clock) => clock.LessOrEqual(stable) && (snapshot is null || clock.LessOrEqual(snapshot));
        int dropped = 0;
        List<StateKey>? drop = null;
        foreach (var (key, clock) in session.Deps)
            if (Prunable(clock)) (drop ??= []).Add(key);
        if (drop is not null)
            foreach (var key in drop) { Lower(session, session.Deps[key]); session.Deps.Remove(key); dropped++; }
        drop?.Clear();
        foreach (var (key, version) in session.Local)
            if (Prunable(version.Clock)) (drop ??= []).Add(key);
        if (drop is not null)
            foreach (var key in drop) if (session.Local.Remove(key, out var gone)) { Lower(session, gone.Clock); dropped++; }
        return dropped;
    }
}
