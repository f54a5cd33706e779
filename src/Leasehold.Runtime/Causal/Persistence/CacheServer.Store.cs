using Leasehold.Runtime.Causal.Persistence;

namespace Leasehold.Runtime.Causal;

/// <summary>
/// A cache server with a store (§5, §6): which keys it has loaded, misses loaded with their deps, and
/// eviction of keys the store already holds.
/// <para>
/// A key is <em>loaded</em> when its C-cache version includes the store's: only then is it served. A key
/// that is not loaded may still have a C-cache entry — writes integrated into it from the I-cache — which
/// is merged with the store's version when the key is loaded (merging is a join, so the order does not
/// matter). Without a store every key counts as loaded.
/// </para>
/// <para>
/// Why the store may count as covering a key that is not loaded (invariants 1–5): a key is evicted only
/// when the store holds a version at or above its C-cache version in the merge order (clock ≤, writer
/// arbitrated ≤), and the store only grows; a read of it here must load it first, which merges that
/// version and loads its deps. So what this server would serve for the key is never below the store's
/// version, and the cut it serves is unchanged by the eviction.
/// </para>
/// </summary>
internal sealed partial class CacheServer
{
    private CausalStore? _store;
    private HashSet<StateKey>? _loaded;
    private LruOrder? _lru;

    public long Misses { get; private set; }
    public long Evictions { get; private set; }

    internal void AttachStore(CausalStore store)
    {
        _store = store;
        // A restarted cluster: this server's writes must come after every write already in the store, by any
        // head (entry h above the stored ones also keeps "head h's n-th write" naming one write across lives).
        JoinClock(store.LifeStart);
        _loaded = [];
        if (_options.Capacity > 0) _lru = new LruOrder();
    }

    public bool HasStore => _store is not null;

    public bool IsLoaded(StateKey key) => _loaded is null || _loaded.Contains(key);

    /// <summary>What this server covers for a key: its C-cache version, joined with the store's when the key is not loaded (see above).</summary>
    public VectorClock Covering(StateKey key)
    {
        var clock = Visible(key).Clock;
        if (!IsLoaded(key) && _store?.Persisted(key) is { } stored) clock = clock.Join(stored.Clock);
        return clock;
    }

    /// <summary>
    /// On this server's mailbox: true when every key is loaded. Otherwise false, and the keys are loaded
    /// from the store and <paramref name="then"/> runs in the same step that installs them, so nothing is
    /// evicted in between; or, when a key's stored bytes are not a causal version, <paramref name="unreadable"/>
    /// runs with the cause, and nothing is installed (the server goes on serving every other key).
    /// </summary>
    public bool AllLoaded(IEnumerable<StateKey> keys, Action then, Action<string> unreadable)
    {
        List<StateKey>? missing = null;
        foreach (var key in keys)
            if (!IsLoaded(key) && !(missing?.Contains(key) ?? false)) (missing ??= []).Add(key);
        if (missing is null) return true;
        Misses += missing.Count;
        Fetch([], missing, then, unreadable, round: 1);
        return false;
    }

    private void Fetch(Dictionary<StateKey, CausalVersion?> fetched, List<StateKey> keys, Action then, Action<string> unreadable, int round)
    {
        if (round > 10_000) throw new InvalidOperationException($"server {Id}: loading {string.Join(", ", fetched.Keys)} did not settle after {round} rounds of deps");
        _store!.Read(Mailbox, keys, read =>
        {
            foreach (var (key, version) in read) fetched[key] = version;
            if (TryInstall(fetched) is { } more) Fetch(fetched, more, then, unreadable, round + 1);
            else then();
        }, unreadable);
    }

    /// <summary>
    /// §6: integrate loaded versions only if their deps are covered. Deps are first integrated from the
    /// I-cache (the usual worklist); a dep still not covered by the C-cache or by what was fetched is
    /// returned to be loaded too (recursively: its own deps are checked in the next round). A dep may
    /// also have been fetched too early (the store had not caught up): it is fetched again. When all are
    /// covered, everything fetched is merged into the C-cache in this one step, so it stays a causal cut.
    /// </summary>
    private List<StateKey>? TryInstall(Dictionary<StateKey, CausalVersion?> fetched)
    {
        // A read can be older than what this owner has committed since it was sent (and this server may have
        // evicted a version in between, counting on the store): merge in what is known to be committed.
        foreach (var key in fetched.Keys.ToList())
            if (_store!.Persisted(key) is { } known) fetched[key] = fetched[key] is { } read ? read.Merge(known) : known;
        if (!_options.UnsafeLoadWithoutDeps)
        {
            foreach (var (_, version) in fetched)
                if (version is not null) Integrate(version.Deps);
            List<StateKey>? more = null;
            foreach (var (_, version) in fetched)
                if (version is not null)
                    foreach (var (dep, clock) in version.Deps)
                    {
                        var have = Visible(dep).Clock;
                        if (fetched.TryGetValue(dep, out var f) && f is not null) have = have.Join(f.Clock);
                        if (!clock.LessOrEqual(have) && !(more?.Contains(dep) ?? false)) (more ??= []).Add(dep);
                    }
            if (more is not null) return more;
        }
        foreach (var (key, version) in fetched)
        {
            // A key absent from the store is loaded at its initial version, so it is counted (and evictable) like any other.
            _c[key] = version is null ? Visible(key) : Visible(key).Merge(version);
            ForgetVersions(key, _c[key]);
            _loaded!.Add(key);
            _lru?.Touch(key);
            if (version is not null) _store!.Know(key, version);
        }
        if (_options.CheckInvariants)
            foreach (var (key, _) in fetched) Invariants.VersionCovered(this, key, _c[key]);
        return null;
    }

    /// <summary>The read of a key that is not loaded: the function attempt is discarded, the key loaded, the function run again.</summary>
    private void CheckLoaded(StateKey key)
    {
        if (!IsLoaded(key)) throw new CausalMissException(key);
    }

    private void Touched(StateKey key) => _lru?.Touch(key);

    /// <summary>
    /// At the end of a step: evicts least recently used keys while the C-cache is over capacity, skipping
    /// keys with I-cache versions or whose version the store does not hold yet. The scan is bounded per
    /// step so a cache full of unpersisted keys costs little; they become evictable once their batch commits.
    /// </summary>
    public void EvictIfFull()
    {
        if (_lru is null || _c.Count <= _options.Capacity) return;
        int excess = _c.Count - _options.Capacity;
        int budget = 4 * excess + 16;
        foreach (var key in _lru.Oldest(budget))
        {
            if (!CanEvict(key)) continue;
            _c.Remove(key);
            ForgetVersions(key, null);
            _loaded!.Remove(key);
            _lru.Remove(key);
            Evictions++;
            if (--excess == 0) return;
        }
    }

    private bool CanEvict(StateKey key)
    {
        if (!_c.TryGetValue(key, out var mine)) return true;
        if (_i.ContainsKey(key)) return false;
        if (_options.UnsafeEvictUnpersisted || mine.Clock.IsZero) return true;
        return _store!.Persisted(key) is { } stored && mine.Clock.LessOrEqual(stored.Clock) && VectorClock.CompareArbitration(mine.Writer, stored.Writer) <= 0;
    }
}

/// <summary>A function read a key its server has not loaded from the store; the cluster loads it and runs the function again.</summary>
public sealed class CausalMissException(StateKey key) : Exception($"{key} is not loaded on this server")
{
    public StateKey Key { get; } = key;
}
