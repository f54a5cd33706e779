using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting.Causal;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Tests.Causal.Processes;

/// <summary>
/// A causal cluster as several processes would build it, in one test process: the client part (the driver's) and one
/// server part per server (each worker's), each constructed on its own with its own copy of the workflows, over one
/// serialising transport, so nothing but bytes crosses between them. One deterministic scheduler drives them all.
/// </summary>
public sealed class CausalParts
{
    private readonly Dictionary<(int, StateKey), VectorClock> _previous = [];

    /// <param name="workflows">builds the deployed workflows: called once per part, as each process loads its own.</param>
    public CausalParts(int seed, CausalOptions options, Func<IReadOnlyList<WorkflowDefinition>> workflows)
    {
        Seed = seed;
        Options = options with { Seed = seed, Transport = TransportKind.InprocSerialising };
        Scheduler = new DeterministicScheduler(seed, timerBias: 0.3);
        Transport = new SerialisingInprocTransport(Scheduler, Options.LinkLatency, new WireLimits { MaxServers = Options.Servers });
        // The client first, then the servers in order: the mailboxes are created in the one-process cluster's order.
        Client = new CausalClientHost(Options, Scheduler, Transport);
        Servers = [.. Enumerable.Range(0, Options.Servers).Select(i => new CausalServerHost(Options, Scheduler, Transport, [i]))];
        // The transport's owner sets the deterministic mode's ring jitter (a real transport has its own links).
        CausalRingJitter.Apply(Transport, Options, Enumerable.Range(0, Options.Servers));
        foreach (var w in workflows()) Client.Register(w);
        foreach (var server in Servers)
            foreach (var w in workflows()) server.Register(w);
    }

    public int Seed { get; }
    public CausalOptions Options { get; }
    public DeterministicScheduler Scheduler { get; }
    public SerialisingInprocTransport Transport { get; }
    public CausalClientHost Client { get; }
    public IReadOnlyList<CausalServerHost> Servers { get; }
    public List<CausalFunctionRecord> Records { get; } = [];
    public List<CausalResult> Results { get; } = [];

    /// <summary>Every server's CausalMesh state, for the §7 invariants over the whole ring.</summary>
    internal IReadOnlyList<CacheServer> CacheServers => [.. Servers.SelectMany(s => s.CacheServers)];

    /// <summary>
    /// Runs closed-loop processes until every workflow is answered; <paramref name="onStep"/> may act mid-run (return
    /// nothing to go on). Fails on a fault, on no quiescence, or on a workflow left unanswered.
    /// </summary>
    public void Run(int processes, int workflows, Func<Random, (string Workflow, Args Args)> next, bool checkEveryStep, Action<long>? onStep = null)
    {
        Client.OnFunction = Records.Add;
        CausalClosedLoop.Start(Client.Submit, Seed, processes, workflows, (_, r) => next(r), Results, observe: null);
        long steps = 0;
        while (Scheduler.Step())
        {
            steps++;
            onStep?.Invoke(steps);
            if (checkEveryStep) Check(steps);
            if (steps > 20_000_000) throw new Xunit.Sdk.XunitException($"seed {Seed}: no quiescence after {steps} steps");
        }
        if (Scheduler.Fault is { } fault) throw new Xunit.Sdk.XunitException($"seed {Seed}: {fault.GetType().Name}: {fault.Message}");
        if (Results.Count != workflows) throw new Xunit.Sdk.XunitException($"seed {Seed}: {workflows - Results.Count} of {workflows} workflows never answered");
        Check(steps);
    }

    private void Check(long step)
    {
        try
        {
            Invariants.CheckAll(CacheServers, _previous);
        }
        catch (CausalInvariantException e)
        {
            throw new Xunit.Sdk.XunitException($"seed {Seed}, step {step}: {e.Message}");
        }
    }
}
