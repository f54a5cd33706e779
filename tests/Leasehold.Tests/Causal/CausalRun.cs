using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Tests.Causal;

/// <summary>
/// A causal cluster in the deterministic mode, driven by closed-loop processes that carry their session
/// token from workflow to workflow, with the §7 invariants checked after every step when asked.
/// Failures name the seed; the same seed replays the same run.
/// </summary>
public sealed class CausalRun
{
    private readonly Dictionary<(int, StateKey), VectorClock> _previous = [];

    public CausalRun(int seed, CausalOptions options, Func<StateKey, byte[]?>? initial = null, Leasehold.Runtime.Causal.Persistence.CausalStore? store = null)
    {
        Seed = seed;
        Scheduler = new DeterministicScheduler(seed, timerBias: 0.3);
        Cluster = new CausalCluster(options with { Seed = seed }, Scheduler, initial, store);
    }

    public int Seed { get; }
    public DeterministicScheduler Scheduler { get; }
    public CausalCluster Cluster { get; }
    public List<CausalFunctionRecord> Records { get; } = [];
    public List<CausalResult> Results { get; } = [];
    public long Steps { get; private set; }
    /// <summary>Frame bytes the wire codec encoded (0 on the fast transport): proof that a run's messages crossed it.</summary>
    public long BytesEncoded => Cluster.Transport is SerialisingInprocTransport serialising ? serialising.BytesSent : 0;

    /// <summary>Runs <paramref name="workflows"/> in total over <paramref name="processes"/> closed-loop processes.</summary>
    public void Run(int processes, int workflows, Func<Random, (string Workflow, Args Args)> next, bool checkEveryStep,
        Action<string, WorkflowStatus, byte[]?[]>? observe = null) => Run(processes, workflows, (_, r) => next(r), checkEveryStep, observe);

    /// <summary>As above, with the process that issues each workflow passed to the generator.</summary>
    public void Run(int processes, int workflows, Func<int, Random, (string Workflow, Args Args)> next, bool checkEveryStep,
        Action<string, WorkflowStatus, byte[]?[]>? observe = null)
    {
        Cluster.OnFunction = Records.Add;
        int before = Results.Count; // a run may be continued with more workflows
        CausalClosedLoop.Start(Cluster, Seed, processes, workflows, next, Results, observe);
        while (Scheduler.Step())
        {
            Steps++;
            if (checkEveryStep) Check();
            if (Steps > 20_000_000) throw new Xunit.Sdk.XunitException($"seed {Seed}: no quiescence after {Steps} steps");
        }
        if (Scheduler.Fault is { } fault) throw new Xunit.Sdk.XunitException($"seed {Seed}: {fault.GetType().Name}: {fault.Message}");
        if (Results.Count - before != workflows) throw new Xunit.Sdk.XunitException($"seed {Seed}: {workflows - (Results.Count - before)} of {workflows} workflows never finished");
        Check();
    }

    private void Check()
    {
        try
        {
            Invariants.CheckAll(Cluster.CacheServers, _previous);
        }
        catch (CausalInvariantException e)
        {
            throw new Xunit.Sdk.XunitException($"seed {Seed}, step {Steps}: {e.Message}");
        }
    }

    /// <summary>Submits one workflow and runs the scheduler until it is answered; fails on a scheduler fault or no answer.</summary>
    public static CausalResult Invoke(DeterministicScheduler scheduler, CausalCluster cluster, string workflow, Args args, CausalInvocation invocation)
    {
        CausalResult? result = null;
        cluster.Submit(workflow, args, r => result = r, invocation);
        scheduler.RunUntil(() => result is not null, 1_000_000);
        Assert.Null(scheduler.Fault);
        Assert.NotNull(result);
        return result!;
    }
}
