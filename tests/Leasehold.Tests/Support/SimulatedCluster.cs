using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Support;

/// <summary>A cluster in the deterministic mode: one thread, virtual time, one seed. Failures name the seed.</summary>
public sealed class SimulatedCluster
{
    private readonly List<(string Workflow, Args Args, WorkflowResult? Result)> _submitted = [];
    private int _answered;

    public SimulatedCluster(int seed, ClusterOptions options, IEnumerable<KeyValuePair<StateKey, byte[]>> initial, params WorkflowDefinition[] workflows)
        : this(seed, 0, options, initial, workflows)
    {
    }

    /// <param name="timerBias">how often time passes while work is pending (see <see cref="DeterministicScheduler"/>)</param>
    public SimulatedCluster(int seed, double timerBias, ClusterOptions options, IEnumerable<KeyValuePair<StateKey, byte[]>> initial, params WorkflowDefinition[] workflows)
        : this(seed, timerBias, options, initial, null, workflows)
    {
    }

    /// <param name="wrapStore">wraps the memory store the cluster uses (a <see cref="FaultyStore"/> to inject store failures)</param>
    public SimulatedCluster(int seed, double timerBias, ClusterOptions options, IEnumerable<KeyValuePair<StateKey, byte[]>> initial,
        Func<MemoryStateStore, IStateStore>? wrapStore, params WorkflowDefinition[] workflows)
    {
        Seed = seed;
        Scheduler = new DeterministicScheduler(seed, timerBias);
        Store = new MemoryStateStore();
        Store.Load(initial);
        Cluster = new SerializableCluster(options, Scheduler, wrapStore?.Invoke(Store) ?? Store);
        foreach (var w in workflows) Cluster.Register(w);
    }

    public int Seed { get; }
    public DeterministicScheduler Scheduler { get; }
    public MemoryStateStore Store { get; }
    public SerializableCluster Cluster { get; }
    public IReadOnlyList<(string Workflow, Args Args, WorkflowResult? Result)> Submitted => _submitted;

    /// <summary>Submits now (in submission order the driver stamps timestamps) and returns the request's index.</summary>
    public int Submit(string workflow, Args args) => Submit(workflow, args, null);

    /// <summary>As <see cref="Submit(string, Args)"/>; <paramref name="onAnswer"/> runs when the answer arrives, so a closed loop can submit the next request from it.</summary>
    public int Submit(string workflow, Args args, Action<WorkflowResult>? onAnswer)
    {
        int index = _submitted.Count;
        _submitted.Add((workflow, args, null));
        Cluster.Submit(workflow, args, r =>
        {
            _submitted[index] = (workflow, args, r);
            _answered++;
            onAnswer?.Invoke(r);
        });
        return index;
    }

    public WorkflowResult Result(int index) => _submitted[index].Result ?? throw new InvalidOperationException($"seed {Seed}: request {index} has no result");

    /// <summary>Runs until every submitted request is answered; fails with the seed on a fault, a deadlock or a lost request.</summary>
    public void RunToCompletion(long maxSteps = 20_000_000)
    {
        Scheduler.RunUntil(() => _answered == _submitted.Count || Scheduler.Fault is not null, maxSteps);
        if (Scheduler.Fault is { } fault) throw new Xunit.Sdk.XunitException($"seed {Seed}: protocol fault: {fault}");
        if (_answered != _submitted.Count)
            throw new Xunit.Sdk.XunitException($"seed {Seed}: {_submitted.Count - _answered} of {_submitted.Count} requests never answered (deadlock or lost request); virtual time {Scheduler.VirtualTime.Nanoseconds} ns");
        Scheduler.RunToQuiescence(maxSteps);
        if (Scheduler.Fault is { } late) throw new Xunit.Sdk.XunitException($"seed {Seed}: protocol fault after the last answer: {late}");
    }

    public byte[]? Committed(StateKey key) => Store.ReadCommittedAsync(key).AsTask().GetAwaiter().GetResult();

    public long CommittedLong(string table, string key) => Value.ToLong(Committed(new StateKey(table, key)));
}
