using Leasehold.Baselines.Causal.Versioned;
using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Scheduling;

namespace Leasehold.Baselines.Causal.HydroCache;

/// <summary>
/// HydroCache-Opt (§8): each function runs on its own cache's cut, checked first against what the
/// workflow's upstream functions read (the read set, with versions and the cache that served each,
/// travels with the workflow):
/// <list type="bullet">
/// <item>too old — the cut lacks an upstream version (or the session's frontier) or something it needs:
/// the cache fetches it, from the upstream cache that served it (which pinned it) and the store for what
/// that needs, and installs it, so its cut then holds the upstream reads' whole causal past;</item>
/// <item>too new — a version this function would read may depend on a version of an upstream-read key
/// arbitrated after the one read upstream: no version here gives a consistent snapshot, and the attempt
/// aborts (the workflow is retried).</item>
/// </list>
/// A key read upstream is read again at the same version. At a fan-in the branches' read sets are checked
/// against each other the same way (each branch was checked only against its own upstream). Versions
/// served are pinned until the workflow ends.
/// </summary>
internal sealed class HydroOpt(CausalOptions options, IScheduler scheduler, Func<StateKey, byte[]?>? initial) : HydroRuntime(options, scheduler, initial)
{
    protected override string Name => "hydro-opt";

    protected override void Begin(Attempt attempt) => StartRoots(Client, attempt);

    protected override void Prepare(Attempt attempt, int function, Flow flow, Action<IReadOnlyDictionary<StateKey, StoredVersion>> run, Action<string> abort)
    {
        var cache = HydroCaches[attempt.Placement[function]];
        var session = HydroSession.Of(attempt.Session).Frontier;
        bool check = !Options.UnsafeSkipUpstreamCheck;
        var needed = session.Select(v => v.Id).ToList();
        var servedBy = new Dictionary<VersionId, HydroCacheNode>();
        if (check)
            foreach (var (_, read) in flow.Reads)
                if (!read.Version.Version.Clock.IsZero)
                {
                    needed.Add(read.Version.Id);
                    servedBy[read.Version.Id] = HydroCaches[read.Server];
                }
        cache.Ensure(needed, session, id => servedBy.GetValueOrDefault(id), () =>
        {
            if (attempt.IsFinished) return;
            var view = new Dictionary<StateKey, StoredVersion>();
            foreach (var k in BaselineContext.DeclaredKeys(attempt.Workflow.Functions[function], attempt.Args))
            {
                if (flow.Writes.ContainsKey(k)) continue;
                view[k] = check && flow.Reads.TryGetValue(k, out var again) ? again.Version : cache.Winner(k);
            }
            // At a fan-in the branches' reads meet unchecked: one branch may have read a version of a key that
            // another branch's read depends on a newer version of (and a re-read returns the branch's version).
            if (check && attempt.Workflow.Functions[function].Parents.Length > 1)
                foreach (var (j, first) in flow.Reads)
                    foreach (var (k, second) in flow.Reads)
                        if (j != k && cache.NewerInPastOf(j, first.Version, second.Version))
                        {
                            abort($"hydro-opt: at the fan-in, {k} read upstream at {second.Version} may depend on a version of {j} newer than the {first.Version} another branch read");
                            return;
                        }
            if (check)
                foreach (var (k, v) in view)
                {
                    if (flow.Reads.ContainsKey(k)) continue;
                    foreach (var (j, upstream) in flow.Reads)
                        if (cache.NewerInPastOf(j, upstream.Version, v))
                        {
                            abort($"hydro-opt: cache {cache.Id}'s {k} may depend on a version of {j} newer than the {upstream.Version} read upstream");
                            return;
                        }
                }
            foreach (var (k, v) in view) cache.Pin(attempt.Id, k, v);
            run(view);
        });
    }

    /// <summary>Its writes, which need everything before them; a read-only workflow adds what it read to the frontier.</summary>
    protected override HydroSession SessionAfter(Attempt attempt, Flow final, IReadOnlyList<StoredVersion> written)
    {
        if (written.Count > 0) return new HydroSession(written);
        var frontier = new Dictionary<VersionId, StoredVersion>();
        foreach (var v in HydroSession.Of(attempt.Session).Frontier) frontier[v.Id] = v;
        foreach (var r in final.Reads.Values.OrderBy(r => r.Version.Key.Table, StringComparer.Ordinal).ThenBy(r => r.Version.Key.Key, StringComparer.Ordinal))
            if (!r.Version.Version.Clock.IsZero) frontier.TryAdd(r.Version.Id, r.Version);
        return new HydroSession([.. frontier.Values]);
    }
}
