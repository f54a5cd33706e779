using Leasehold.Baselines;
using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;

namespace Leasehold.Tests.Causal.Baselines;

/// <summary>
/// A baseline (or any <see cref="ICausalRuntime"/>) in the deterministic mode, driven by closed-loop
/// processes that carry their session token, with every function record kept for the causal checker.
/// Failures name the seed; the same seed replays the same run.
/// </summary>
public sealed class BaselineRun
{
    public BaselineRun(int seed, CausalOptions options, Func<StateKey, byte[]?>? initial = null)
    {
        Seed = seed;
        Scheduler = new DeterministicScheduler(seed, timerBias: 0.3);
        Runtime = CausalRuntime.Create(options with { Seed = seed }, Scheduler, initial);
    }

    public int Seed { get; }
    public DeterministicScheduler Scheduler { get; }
    public ICausalRuntime Runtime { get; }
    public List<CausalFunctionRecord> Records { get; } = [];
    public List<CausalResult> Results { get; } = [];

    public void Run(int processes, int workflows, Func<int, Random, (string Workflow, Args Args)> next, Action<string, WorkflowStatus, byte[]?[]>? observe = null)
    {
        Runtime.OnFunction = Records.Add;
        CausalClosedLoop.Start(Runtime, Seed, processes, workflows, next, Results, observe);
        long steps = 0;
        while (Scheduler.Step())
            if (++steps > 20_000_000) throw new Xunit.Sdk.XunitException($"seed {Seed}: no quiescence after {steps} steps");
        if (Scheduler.Fault is { } fault) throw new Xunit.Sdk.XunitException($"seed {Seed}: {fault.GetType().Name}: {fault.Message}\n{fault.StackTrace}");
        if (Results.Count != workflows) throw new Xunit.Sdk.XunitException($"seed {Seed}: {workflows - Results.Count} of {workflows} workflows never finished");
    }

    public Leasehold.Checkers.Causal.CausalCheckResult Check() =>
        new Leasehold.Checkers.Causal.CausalChecker(new Leasehold.Checkers.Causal.CausalCheckerOptions { Convergence = true })
            .Check(new Leasehold.Checkers.Causal.CausalMemoryHistory([.. Records.Select(Leasehold.Cli.Bench.Causal.CausalHistoryWriter.ToChecker)]));

    public string Explain(Leasehold.Checkers.Causal.CausalCheckResult result) =>
        $"seed {Seed}: " + string.Join(", ", result.Counts.Where(c => c.Value > 0)) + " — " + string.Join("; ", result.Examples.Take(2).Select(e => $"{e.Kind}: {e.Explanation}"));
}
