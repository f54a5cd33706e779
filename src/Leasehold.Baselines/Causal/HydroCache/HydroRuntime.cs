using Leasehold.Baselines.Causal.Versioned;
using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Scheduling;

namespace Leasehold.Baselines.Causal.HydroCache;

/// <summary>
/// What hydro-con and hydro-opt share: a HydroCache per worker, subscribed to every store partition, and the
/// commit. A transaction's writes get one clock (<see cref="HydroCacheNode.CommitClock"/>) and need, exactly,
/// every version it read, its session's frontier and each other; they are written to the store as one write
/// set at the end of the DAG and become visible on a cache only together, once its notifications brought
/// them all and everything they need.
/// </summary>
internal abstract class HydroRuntime : BaselineRuntime
{
    private readonly HydroCacheNode[] _caches;
    private readonly BaselineNode[] _nodes;

    protected HydroRuntime(CausalOptions options, IScheduler scheduler, Func<StateKey, byte[]?>? initial) : base(options, scheduler, initial)
    {
        _nodes = [.. Enumerable.Range(0, options.Servers).Select(i => new BaselineNode(scheduler, $"hydro-cache-{i}"))];
        _caches = [.. _nodes.Select((n, i) => new HydroCacheNode(i, options, n, Store, Net, Initial))];
        foreach (var c in _caches) Store.Subscribe(c.Node, c.Receive);
    }

    protected override IReadOnlyList<BaselineNode> Caches => _nodes;
    internal IReadOnlyList<HydroCacheNode> HydroCaches => _caches;

    /// <summary>The session state the next workflow gets, given what this one read and wrote.</summary>
    protected abstract HydroSession SessionAfter(Attempt attempt, Flow final, IReadOnlyList<StoredVersion> written);

    protected override void Commit(Attempt attempt, int server, Flow final, Action<object?> committed)
    {
        var cache = _caches[server];
        var session = HydroSession.Of(attempt.Session);
        if (final.Writes.Count == 0)
        {
            committed(SessionAfter(attempt, final, []));
            return;
        }
        var read = final.Reads.Values.Select(r => r.Version).Where(v => !v.Version.Clock.IsZero);
        var past = read.Concat(session.Frontier).ToList();
        var clock = cache.CommitClock(past.Select(v => v.Version.Clock));
        var keys = final.Writes.Keys.OrderBy(k => k.Table, StringComparer.Ordinal).ThenBy(k => k.Key, StringComparer.Ordinal).ToList();
        var needs = past.Select(v => v.Id).Concat(keys.Select(k => new VersionId(k, clock))).Distinct().ToList();
        // The lattice metadata: per key, the join of the clocks needed (what Anna's causal lattice keeps).
        var deps = new Dictionary<StateKey, VectorClock>();
        foreach (var n in needs) deps[n.Key] = deps.TryGetValue(n.Key, out var c) ? c.Join(n.Clock) : n.Clock;
        var versions = keys.Select(k => new StoredVersion(k, new CausalVersion(final.Writes[k].Value, clock, deps), 0,
            [.. needs.Where(n => !(n.Key == k && n.Clock.Equals(clock)))])).ToList();
        Store.Write(cache.Node, versions, () => committed(SessionAfter(attempt, final, versions)));
    }

    /// <summary>Every cache the attempt ran on drops its pins (one message each).</summary>
    protected override void Cleanup(Attempt attempt, int server)
    {
        long id = attempt.Id;
        foreach (int s in attempt.Servers)
        {
            var cache = _caches[s];
            Net.Send(_nodes[server].Mailbox, cache.Node, () => cache.Unpin(id));
        }
    }
}
