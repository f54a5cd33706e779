using Leasehold.Runtime.Causal;
using Leasehold.Workloads.Causal;

namespace Leasehold.Tests.Causal.Baselines;

/// <summary>hydro-con and hydro-opt against the causal checker, in the deterministic mode with roaming placements.</summary>
public class HydroCacheTests
{
    internal static BaselineRun Micro(int seed, CausalProtocol protocol, int workflows, int keys = 8, int history = 16, bool unsafeSkip = false, bool unsafeNoJoin = false)
    {
        var workload = new CausalMicroWorkload(keys: keys, theta: 0.8, length: 3 + seed % 2);
        var run = new BaselineRun(seed, new CausalOptions
        {
            Servers = 2 + seed % 4, Protocol = protocol, LinkLatency = TimeSpan.FromMicroseconds(20 + seed % 3 * 15),
            NotificationInterval = TimeSpan.FromMicroseconds(50 + seed % 4 * 100), VersionHistory = history, UnsafeSkipUpstreamCheck = unsafeSkip, UnsafeNoJoin = unsafeNoJoin,
        });
        run.Runtime.Register(workload.Workflow);
        run.Run(processes: 8, workflows: workflows, (_, r) => (CausalMicroWorkload.Name, workload.Next(r)));
        return run;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void HydroCon_histories_are_causal_with_convergence_and_it_never_aborts(int seed)
    {
        var run = Micro(seed, CausalProtocol.HydroCon, 600);
        var result = run.Check();
        Assert.True(result.Valid, run.Explain(result));
        Assert.All(run.Results, r => Assert.True(r.Succeeded && r.Aborts == 0, $"seed {seed}: {r.Status} after {r.Aborts} aborts: {r.Reason}"));
        CutsHoldAndPinsAreGone(run);
    }

    /// <summary>At the end of a run every cache's cut is a strict causal cut, holds every committed version, and no workflow's pins are left.</summary>
    internal static void CutsHoldAndPinsAreGone(BaselineRun run)
    {
        var caches = ((Leasehold.Baselines.Causal.HydroCache.HydroRuntime)run.Runtime).HydroCaches;
        foreach (var cache in caches)
        {
            Assert.True(cache.CutViolation() is null, $"seed {run.Seed}: {cache.CutViolation()}");
            Assert.True(cache.PinnedWorkflows == 0, $"seed {run.Seed}: cache {cache.Id} still pins {cache.PinnedWorkflows} workflows");
            Assert.True(cache.PendingCount == 0, $"seed {run.Seed}: cache {cache.Id} never installed {cache.PendingCount} versions");
            Assert.Equal(caches[0].InstalledCount, cache.InstalledCount); // every cache learnt every version, by notification or fetch
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void HydroOpt_histories_are_causal_with_convergence(int seed)
    {
        var run = Micro(seed, CausalProtocol.HydroOpt, 600);
        var result = run.Check();
        Assert.True(result.Valid, run.Explain(result));
        Assert.All(run.Results, r => Assert.True(r.Succeeded, $"seed {seed}: {r.Status}: {r.Reason}"));
        CutsHoldAndPinsAreGone(run);
    }

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 12)];
}

/// <summary>hydro-opt's aborts and its negative control; hydro-con's refusal of ReadsAny.</summary>
public class HydroCacheAbortTests
{
    [Fact]
    public void HydroOpt_aborts_and_retries_under_contention_and_every_workflow_commits()
    {
        var run = HydroCacheTests.Micro(3, CausalProtocol.HydroOpt, 600, keys: 4);
        Assert.True(run.Results.Sum(r => r.Aborts) > 0, $"seed {run.Seed}: no attempt aborted on 4 hot keys: the upstream check never fired");
        Assert.All(run.Results, r => Assert.True(r.Succeeded, $"seed {run.Seed}: {r.Status}: {r.Reason}"));
        Assert.Contains(run.Records, r => !r.Ok); // aborted attempts are in the history, as aborted workflows
        var result = run.Check();
        Assert.True(result.Valid, run.Explain(result));
        Assert.True(result.AbortedWorkflows > 0);
    }

    [Fact]
    public void A_workflow_that_keeps_aborting_fails_with_the_reason()
    {
        var workload = new CausalMicroWorkload(keys: 2, theta: 0.5, length: 4);
        var run = new BaselineRun(3, new CausalOptions
        {
            Servers = 4, Protocol = CausalProtocol.HydroOpt, LinkLatency = TimeSpan.FromMicroseconds(20), TransactionAttempts = 1,
        });
        run.Runtime.Register(workload.Workflow);
        run.Run(8, 300, (_, r) => (CausalMicroWorkload.Name, workload.Next(r)));
        var failed = run.Results.Where(r => !r.Succeeded).ToList();
        Assert.NotEmpty(failed);
        Assert.All(failed, r => Assert.Contains("aborted 1 times", r.Reason));
    }

    /// <summary>The negative control: hydro-opt reading its cut without the upstream check is flagged by the checker on a fixed seed.</summary>
    [Fact]
    public void HydroOpt_without_its_upstream_check_is_flagged_by_the_checker()
    {
        var run = HydroCacheTests.Micro(11, CausalProtocol.HydroOpt, 600, keys: 4, unsafeSkip: true);
        var result = run.Check();
        Assert.False(result.Valid, $"seed {run.Seed}: the checker passed a hydro-opt that skips its upstream check");
    }

    /// <summary>The negative control: hydro-con without its all-cache join (each function on its own cache's cut) is flagged on a fixed seed.</summary>
    [Fact]
    public void HydroCon_without_its_join_is_flagged_by_the_checker()
    {
        var run = HydroCacheTests.Micro(3, CausalProtocol.HydroCon, 600, keys: 4, unsafeNoJoin: true);
        var result = run.Check();
        Assert.False(result.Valid, $"seed {run.Seed}: the checker passed a hydro-con that reads each cache's own cut");
    }

    [Theory]
    [InlineData(CausalProtocol.HydroCon)]
    [InlineData(CausalProtocol.HydroOpt)]
    [InlineData(CausalProtocol.FaasTcc)]
    public void A_workflow_that_reads_any_key_is_refused(CausalProtocol protocol)
    {
        var runtime = Leasehold.Baselines.CausalRuntime.Create(new CausalOptions { Protocol = protocol }, new Leasehold.Runtime.Scheduling.DeterministicScheduler(1));
        var media = new MediaWorkload();
        var e = Assert.Throws<WorkflowDefinitionException>(() => { foreach (var w in media.Workflows) runtime.Register(w); });
        Assert.Contains("ReadsAny", e.Message);
    }
}
