using Leasehold.Runtime.Causal.Messages;

namespace Leasehold.Runtime.Causal;

/// <summary>A write on its way around the ring: its key and version, its head, and which lap it is on.</summary>
/// <remarks>
/// <paramref name="Stable"/> piggybacks the sender's knowledge of what every server has integrated.
/// <paramref name="Siblings"/> are the other writes of a read-write transaction, with the same clock: each
/// lists the others among its deps, so the tail's integration makes them all visible in one step.
/// </remarks>
internal readonly record struct Propagation(StateKey Key, CausalVersion Version, int Head, int Lap, VectorClock Stable,
    KeyedVersion[]? Siblings = null);

/// <summary>A key's version, as data: a transaction's write beside the others.</summary>
internal readonly record struct KeyedVersion(StateKey Key, CausalVersion Version);

/// <summary>A write is visible at its tail (<paramref name="Tail"/>): passed round so every server integrates it.</summary>
internal readonly record struct StableNotice(StateKey Key, VectorClock Clock, int Head, int Tail, VectorClock Stable);

internal sealed partial class CacheServer
{
    /// <summary>
    /// Two laps (§3): every server adds the write to its I-cache and forwards it; the tail (the head's
    /// predecessor) turns lap 1 into lap 2, and at the end of lap 2 makes the write visible — clock
    /// joined, its deps integrated, the write merged with its own clock — then sends the stable notice.
    /// By FIFO links, everything in the write's causal past finished lap 1 before that.
    /// </summary>
    public void Receive(Propagation p)
    {
        LearnStable(p.Stable);
        bool tail = HeadOfMyTail == p.Head;
        if (!tail || (p.Lap == 1 && !_options.UnsafeOneLap))
        {
            AddToICache(p.Key, p.Version);
            if (p.Siblings is { } siblings)
                foreach (var (key, version) in siblings) AddToICache(key, version);
            SendRing(new RingPropagateMsg(p with { Lap = tail ? 2 : p.Lap, Stable = StableSnapshot() }));
            return;
        }
        JoinClock(p.Version.Clock);
        Integrate(p.Version.Deps);
        MergeVisible(p.Key, p.Version);
        _store?.Enqueue(p.Key, p.Version, p.Head, p.Siblings is { } written ? [.. written.Select(w => (w.Key, w.Version))] : null); // visible at its tail (with a transaction's other writes): now it may be persisted (CausalStore)
        if (_options.CheckInvariants) Invariants.VersionCovered(this, p.Key, p.Version);
        if (Servers == 1) MarkStable(p.Head, p.Version.Clock);
        else SendRing(new RingStableMsg(new StableNotice(p.Key, p.Version.Clock, p.Head, Id, StableSnapshot())));
        EvictIfFull();
    }

    /// <summary>
    /// §4's Decision: the write is visible at its tail; a server may integrate it now rather than when a read needs it.
    /// Without eager integration it is noted, and integrated before the next function that reads here reads anything.
    /// </summary>
    public void ReceiveStable(StableNotice notice)
    {
        LearnStable(notice.Stable);
        if (_options.EagerIntegration) Integrate([new(notice.Key, notice.Clock)]);
        else _noticed[notice.Key] = _noticed.TryGetValue(notice.Key, out var before) ? before.Join(notice.Clock) : notice.Clock;
        if ((Id + 1) % Servers != notice.Tail) SendRing(new RingStableMsg(notice with { Stable = StableSnapshot() }));
        else MarkStable(notice.Head, notice.Clock); // the notice's last stop: every server has integrated the write
        EvictIfFull();
    }

    /// <summary>
    /// Lazy integration's catch-up: the writes whose stable notice passed here since the last function read here.
    /// Without it, a write reached another server only through a session that depended on it, and a fresh reader
    /// there saw the old value forever, even on a quiet cluster. Called before a function's first read here, so
    /// the function still reads one causal cut.
    /// </summary>
    private void IntegrateNoticed()
    {
        if (_noticed.Count == 0) return;
        Integrate(_noticed);
        _noticed.Clear();
    }

    /// <summary>
    /// Integrate(deps) as one atomic step: a worklist over (key, clock), taking every I-cache version of
    /// the key with a clock ≤ the needed one and following its own deps, then merging everything taken
    /// into the C-cache at once — so the C-cache stays a causal cut.
    /// </summary>
    private void Integrate(IReadOnlyCollection<KeyValuePair<StateKey, VectorClock>> deps)
    {
        if (deps.Count == 0) return;
        List<(StateKey Key, CausalVersion Version)>? taken = null;
        var work = new Stack<KeyValuePair<StateKey, VectorClock>>(deps);
        while (work.TryPop(out var need))
        {
            if (!_i.TryGetValue(need.Key, out var versions)) continue;
            for (int v = versions.Count - 1; v >= 0; v--)
            {
                var version = versions[v];
                if (!version.Clock.LessOrEqual(need.Value)) continue;
                versions.RemoveAt(v);
                (taken ??= []).Add((need.Key, version));
                foreach (var dep in version.Deps) work.Push(dep);
            }
            if (versions.Count == 0) _i.Remove(need.Key);
        }
        if (taken is null) return;
        foreach (var (key, version) in taken) MergeVisible(key, version);
        // Invariant 1 for every write merged, once the whole step is done (one may depend on another taken with it).
        if (_options.CheckInvariants)
            foreach (var (key, version) in taken) Invariants.VersionCovered(this, key, version);
    }

    private void MergeVisible(StateKey key, CausalVersion version)
    {
        RecordVisible(key, version);
        var merged = Visible(key).Merge(version);
        _c[key] = merged;
        Touched(key);
        if (_i.TryGetValue(key, out var versions))
        {
            if (_options.UnsafeDropDominatedVersions) versions.RemoveAll(v => v.Clock.LessOrEqual(merged.Clock));
            else versions.RemoveAll(v => v.Clock.Equals(version.Clock));
            if (versions.Count == 0) _i.Remove(key);
        }
    }
}
