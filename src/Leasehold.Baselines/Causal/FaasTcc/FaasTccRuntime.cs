using Leasehold.Baselines.Causal.Versioned;
using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Scheduling;

namespace Leasehold.Baselines.Causal.FaasTcc;

/// <summary>What a FaaSTCC client carries to its next workflow: the lowest snapshot time it may read at (its last commit, or the start of what it read).</summary>
internal sealed record FaasSession(long Low);

/// <summary>
/// FaaSTCC (§8): each workflow is a transaction with a snapshot interval [low, high], starting at
/// [the session's low, ∞]. Before a function's body runs, every key it declares is read: the newest cached
/// version whose validity [ts, next ts − 1] (the latest: up to its partition's promise) meets the interval,
/// which narrows to the intersection; when no cached version meets it, the version valid inside it is
/// refetched from the key's partition (which first raises its clock to the interval, or waits for an
/// undecided commit below it), and when the partition no longer has it the attempt aborts and is retried.
/// All reads are valid at one common time, so they are a consistent snapshot. Commit: a two-phase commit
/// over the write set's partitions, coordinated by the cache of the last function, at a timestamp above
/// the snapshot's low (so above every version read); caches learn the new versions by notification.
/// </summary>
internal sealed class FaasTccRuntime : BaselineRuntime
{
    private readonly FaasTccCacheNode[] _caches;
    private readonly BaselineNode[] _nodes;

    public FaasTccRuntime(CausalOptions options, IScheduler scheduler, Func<StateKey, byte[]?>? initial) : base(options, scheduler, initial)
    {
        _nodes = [.. Enumerable.Range(0, options.Servers).Select(i => new BaselineNode(scheduler, $"faastcc-cache-{i}"))];
        _caches = [.. _nodes.Select((n, i) => new FaasTccCacheNode(i, options, n, Store, Initial))];
        foreach (var c in _caches) Store.Subscribe(c.Node, c.Receive);
    }

    protected override string Name => "faastcc";
    protected override IReadOnlyList<BaselineNode> Caches => _nodes;

    private static long SessionLow(Attempt attempt) => (attempt.Session as FaasSession)?.Low ?? 0;

    protected override void Begin(Attempt attempt) => StartRoots(Client, attempt);

    protected override Flow StartFlow(Attempt attempt) => new() { Low = SessionLow(attempt), High = long.MaxValue };

    protected override void Prepare(Attempt attempt, int function, Flow flow, Action<IReadOnlyDictionary<StateKey, StoredVersion>> run, Action<string> abort)
    {
        var cache = _caches[attempt.Placement[function]];
        var keys = BaselineContext.DeclaredKeys(attempt.Workflow.Functions[function], attempt.Args).Where(k => !flow.Writes.ContainsKey(k)).ToList();
        var view = new Dictionary<StateKey, StoredVersion>();

        void Narrow(StoredVersion v, long until)
        {
            flow.Low = Math.Max(flow.Low, v.Timestamp);
            flow.High = Math.Min(flow.High, until);
        }

        // One key after another: each read narrows the interval the next must meet; a refetch is a round trip.
        void Next(int i)
        {
            for (; i < keys.Count; i++)
            {
                var k = keys[i];
                if (flow.Reads.TryGetValue(k, out var again)) view[k] = again.Version;
                else if (Options.UnsafeIgnoreInterval) view[k] = cache.Newest(k);
                else if (cache.Find(k, flow.Low, flow.High) is var (v, until))
                {
                    Narrow(v, until);
                    view[k] = v;
                }
                else
                {
                    int at = i;
                    Store.ReadAt(cache.Node, k, flow.Low, flow.High, read =>
                    {
                        if (attempt.IsFinished) return;
                        if (read.Version is not { } fetched || read.ValidUntil < flow.Low)
                        {
                            abort($"faastcc: no version of {k} valid in [{flow.Low}, {flow.High}] is left at its partition");
                            return;
                        }
                        Narrow(fetched, read.ValidUntil);
                        view[k] = fetched;
                        Next(at + 1);
                    });
                    return;
                }
            }
            run(view);
        }

        Next(0);
    }

    protected override void Commit(Attempt attempt, int server, Flow final, Action<object?> committed)
    {
        if (final.Writes.Count == 0)
        {
            committed(new FaasSession(Math.Max(SessionLow(attempt), final.Low)));
            return;
        }
        var versions = final.Writes.Keys.OrderBy(k => k.Table, StringComparer.Ordinal).ThenBy(k => k.Key, StringComparer.Ordinal)
            .Select(k => new StoredVersion(k, CausalVersion.Initial(final.Writes[k].Value, Options.Servers), 0, [])).ToList();
        Store.Commit(_nodes[server], versions, above: final.Low, decided: ts => committed(new FaasSession(ts)));
    }
}
