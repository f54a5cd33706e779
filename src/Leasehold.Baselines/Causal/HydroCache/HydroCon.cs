using Leasehold.Baselines.Causal.Versioned;
using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Scheduling;

namespace Leasehold.Baselines.Causal.HydroCache;

/// <summary>
/// HydroCache-Con (§8): before a workflow runs, the scheduler (the clients' mailbox) asks every cache for
/// its cut's versions of the workflow's whole read set (known from the declared key selectors) and joins
/// them: per key the arbitration maximum, which — the union of causal cuts being a causal cut — is a
/// causally consistent snapshot; the session's own writes no cache holds yet are joined in too. Every cache
/// that will run a function pins that snapshot for the workflow, its functions read only from it, and
/// every cache drops it afterwards. It never aborts; it pays 2N messages and a round trip on every workflow
/// before the first function, and N pin messages.
/// </summary>
internal sealed class HydroCon(CausalOptions options, IScheduler scheduler, Func<StateKey, byte[]?>? initial) : HydroRuntime(options, scheduler, initial)
{
    protected override string Name => "hydro-con";

    private sealed class Collection(int left)
    {
        public int Left = left;
        public readonly Dictionary<StateKey, StoredVersion> Snapshot = [];
        public readonly HashSet<VersionId> Confirmed = [];
    }

    protected override void Begin(Attempt attempt)
    {
        if (Options.UnsafeNoJoin)
        {
            attempt.Scratch = new Collection(0);
            StartRoots(Client, attempt);
            return;
        }
        var keys = new List<StateKey>();
        foreach (var f in attempt.Workflow.Functions)
            foreach (var k in BaselineContext.DeclaredKeys(f, attempt.Args))
                if (!keys.Contains(k)) keys.Add(k);
        var own = HydroSession.Of(attempt.Session).Frontier;
        var collection = new Collection(HydroCaches.Count);
        attempt.Scratch = collection;
        foreach (var cache in HydroCaches)
        {
            var c = cache;
            Net.Send(Client, c.Node, () =>
            {
                var winners = keys.Select(c.Winner).ToArray();
                var installed = own.Where(o => c.IsInstalled(o.Id)).Select(o => o.Id).ToArray();
                Net.SendToClient(c.Node.Mailbox, Client, () => Gathered(attempt, collection, winners, installed));
            });
        }
    }

    /// <summary>On the clients' mailbox: one cache's answer; with the last, the snapshot is pinned and the workflow starts.</summary>
    private void Gathered(Attempt attempt, Collection collection, StoredVersion[] winners, VersionId[] installed)
    {
        foreach (var v in winners) Join(collection.Snapshot, v);
        collection.Confirmed.UnionWith(installed);
        if (--collection.Left > 0) return;
        foreach (var own in HydroSession.Of(attempt.Session).Frontier)
            if (collection.Snapshot.ContainsKey(own.Key)) Join(collection.Snapshot, own);
        var snapshot = collection.Snapshot;
        long id = attempt.Id;
        foreach (int s in attempt.Servers)
        {
            var cache = HydroCaches[s];
            Net.Send(Client, cache.Node, () => cache.PinAll(id, snapshot));
        }
        StartRoots(Client, attempt);
    }

    private static void Join(Dictionary<StateKey, StoredVersion> snapshot, StoredVersion v)
    {
        if (!snapshot.TryGetValue(v.Key, out var have) || VectorClock.CompareArbitration(v.Version.Clock, have.Version.Clock) > 0) snapshot[v.Key] = v;
    }

    protected override void Prepare(Attempt attempt, int function, Flow flow, Action<IReadOnlyDictionary<StateKey, StoredVersion>> run, Action<string> abort)
    {
        var cache = HydroCaches[attempt.Placement[function]];
        if (Options.UnsafeNoJoin) run(BaselineContext.DeclaredKeys(attempt.Workflow.Functions[function], attempt.Args).ToDictionary(k => k, cache.Winner));
        else cache.WithPins(attempt.Id, run);
    }

    /// <summary>Own writes some cache reported installed are in the caches' cuts for good; the rest stay, with this workflow's writes.</summary>
    protected override HydroSession SessionAfter(Attempt attempt, Flow final, IReadOnlyList<StoredVersion> written)
    {
        var confirmed = ((Collection)attempt.Scratch!).Confirmed;
        var byKey = new Dictionary<StateKey, StoredVersion>();
        foreach (var v in HydroSession.Of(attempt.Session).Frontier)
            if (!confirmed.Contains(v.Id)) byKey[v.Key] = v;
        foreach (var v in written) byKey[v.Key] = v; // a later own write of a key needs the earlier one
        return new HydroSession([.. byKey.Values.OrderBy(v => v.Key.Table, StringComparer.Ordinal).ThenBy(v => v.Key.Key, StringComparer.Ordinal)]);
    }
}
