using Leasehold.Checkers.Causal;
using Leasehold.Cli.Bench.Causal;
using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Workloads.Causal;

namespace Leasehold.Tests.Causal.Processes;

/// <summary>
/// The causal cluster built per process (issue 16): the client part and each server part constructed on their own,
/// each loading its own copy of the workflows, talking over the serialising transport only. The causal
/// micro-benchmark's history checks causal, the eventual control is still flagged, and the parts replay the
/// one-process cluster's run exactly (so splitting it changed nothing but who builds what).
/// </summary>
public class CausalPartsCheckerTests
{
    private static CausalOptions Options(int seed, CausalProtocol protocol) => new()
    {
        Servers = 2 + seed % 4, Protocol = protocol, LinkLatency = TimeSpan.FromMicroseconds(20), RingJitter = TimeSpan.FromMilliseconds(1),
        EagerIntegration = seed % 3 != 0,
    };

    private static CausalCheckResult Check(IEnumerable<CausalFunctionRecord> records) =>
        new CausalChecker(new CausalCheckerOptions { Convergence = true }).Check(new CausalMemoryHistory([.. records.Select(CausalHistoryWriter.ToChecker)]));

    private static CausalParts Micro(int seed, CausalProtocol protocol, int workflows)
    {
        // Each part builds its own workload object: only the code is the same; the client's generates the requests.
        var workload = new CausalMicroWorkload(keys: 8, theta: 0.8, length: 3 + seed % 2);
        var parts = new CausalParts(seed, Options(seed, protocol), () => [new CausalMicroWorkload(keys: 8, theta: 0.8, length: 3 + seed % 2).Workflow]);
        parts.Run(processes: 8, workflows, r => (CausalMicroWorkload.Name, workload.Next(r)), checkEveryStep: false);
        return parts;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void A_micro_benchmark_history_over_separately_built_parts_checks_causal(int seed)
    {
        var parts = Micro(seed, CausalProtocol.CausalMesh, 300);
        var result = Check(parts.Records);
        Assert.True(result.Valid, $"seed {seed}: " + string.Join("; ", result.Examples.Take(2).Select(e => $"{e.Kind}: {e.Explanation}")));
        Assert.True(parts.Transport.BytesSent > 0, $"seed {seed}: nothing crossed the codec");
        Assert.All(parts.Results, r => Assert.True(r.Succeeded, $"seed {seed}: {r.Status} {r.Reason}"));
        Assert.True(parts.Records.Select(r => r.Server).Distinct().Count() == parts.Options.Servers, $"seed {seed}: not every server part ran functions");
    }

    [Fact]
    public void The_eventual_control_over_separately_built_parts_is_flagged()
    {
        var result = Check(Micro(4, CausalProtocol.Eventual, 1500).Records);
        Assert.False(result.Valid);
        Assert.True(result.Counts.GetValueOrDefault("WriteCORead") + result.Counts.GetValueOrDefault("WriteCOInitRead") > 0, string.Join(", ", result.Counts));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void The_invariants_hold_over_the_whole_ring_of_separately_built_parts_after_every_step(int seed)
    {
        var workload = new CausalMicroWorkload(keys: 6, theta: 0.5, length: 3 + seed % 3);
        var options = Options(seed, CausalProtocol.CausalMesh) with { CheckInvariants = true, EagerIntegration = true };
        var parts = new CausalParts(seed, options, () => [new CausalMicroWorkload(keys: 6, theta: 0.5, length: 3 + seed % 3).Workflow]);
        parts.Run(processes: 4, workflows: 60, r => (CausalMicroWorkload.Name, workload.Next(r)), checkEveryStep: true);
        Assert.Equal(60, parts.Results.Count(r => r.Succeeded));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    public void Separately_built_parts_replay_the_one_process_clusters_run_for_the_seed(int seed)
    {
        var parts = Micro(seed, CausalProtocol.CausalMesh, 120);
        var workload = new CausalMicroWorkload(keys: 8, theta: 0.8, length: 3 + seed % 2);
        var whole = new CausalRun(seed, Options(seed, CausalProtocol.CausalMesh) with { Transport = TransportKind.InprocSerialising });
        whole.Cluster.Register(workload.Workflow);
        whole.Run(processes: 8, workflows: 120, r => (CausalMicroWorkload.Name, workload.Next(r)), checkEveryStep: false);
        Assert.Equal(Describe(whole.Records), Describe(parts.Records));
        Assert.Equal(whole.Scheduler.Time.GetUtcNow(), parts.Scheduler.Time.GetUtcNow());
    }

    private static List<string> Describe(IEnumerable<CausalFunctionRecord> records) =>
        [.. records.Select(r => $"{r.Process}/{r.Seq}/{r.Workflow}/{r.Function}@{r.Server} {r.Ok} " +
            string.Join(",", r.Ops.Select(o => $"{(o.IsWrite ? "w" : "r")}{o.Key}={(o.Value is null ? "-" : Convert.ToHexString(o.Value))}")))];
}
