using Leasehold.Runtime.Causal;
using Leasehold.Workloads.Causal;

namespace Leasehold.Tests.Causal.Baselines;

/// <summary>FaaSTCC against the causal checker, its aborts under contention, and its negative control.</summary>
public class FaasTccTests
{
    [Theory]
    [MemberData(nameof(HydroCacheTests.Seeds), MemberType = typeof(HydroCacheTests))]
    public void FaasTcc_histories_are_causal_with_convergence(int seed)
    {
        var run = HydroCacheTests.Micro(seed, CausalProtocol.FaasTcc, 600);
        var result = run.Check();
        Assert.True(result.Valid, run.Explain(result));
        Assert.All(run.Results, r => Assert.True(r.Succeeded, $"seed {seed}: {r.Status}: {r.Reason}"));
    }

    [Fact]
    public void FaasTcc_aborts_when_the_version_its_interval_needs_is_gone_and_retries_until_it_commits()
    {
        var run = HydroCacheTests.Micro(3, CausalProtocol.FaasTcc, 600, keys: 4, history: 1);
        Assert.True(run.Results.Sum(r => r.Aborts) > 0, $"seed {run.Seed}: no attempt aborted with one version kept per key");
        Assert.All(run.Results, r => Assert.True(r.Succeeded, $"seed {run.Seed}: {r.Status}: {r.Reason}"));
        var result = run.Check();
        Assert.True(result.Valid, run.Explain(result));
    }

    /// <summary>The negative control: reading the newest cached version, the interval ignored, is flagged on a fixed seed.</summary>
    [Fact]
    public void FaasTcc_ignoring_its_interval_is_flagged_by_the_checker()
    {
        var workload = new CausalMicroWorkload(keys: 4, theta: 0.8, length: 4);
        var run = new BaselineRun(3, new CausalOptions
        {
            Servers = 4, Protocol = CausalProtocol.FaasTcc, LinkLatency = TimeSpan.FromMicroseconds(20), UnsafeIgnoreInterval = true,
        });
        run.Runtime.Register(workload.Workflow);
        run.Run(8, 600, (_, r) => (CausalMicroWorkload.Name, workload.Next(r)));
        Assert.False(run.Check().Valid, $"seed {run.Seed}: the checker passed a faastcc that ignores its snapshot interval");
    }
}
