using Leasehold.Checkers.Causal;
using Leasehold.Cli.Bench.Causal;
using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Transport;
using Leasehold.Workloads.Causal;

namespace Leasehold.Tests.Causal.Processes;

/// <summary>
/// Issue 16's rule: a CausalMesh ring needs reliable FIFO links, so until servers can leave a ring a broken link stops
/// the causal cluster with a clear error. The hook is called mid-run in the deterministic mode, as the socket transport
/// will call it on a real loss: every workflow is still answered, none succeeds after the stop, each failure names the
/// lost link, and every server stops running functions.
/// </summary>
public class CausalLinkLossTests
{
    private const int Workflows = 300;

    private static CausalParts Parts(int seed) => new(seed,
        new CausalOptions { Servers = 4, LinkLatency = TimeSpan.FromMicroseconds(20), RingJitter = TimeSpan.FromMilliseconds(1) },
        () => [new CausalMicroWorkload(keys: 8, theta: 0.8).Workflow]);

    /// <summary>Runs the micro-benchmark and calls <paramref name="lose"/> once, when 100 workflows were answered; the index of the first answer after it.</summary>
    private static int RunAndLose(CausalParts parts, Action lose)
    {
        var workload = new CausalMicroWorkload(keys: 8, theta: 0.8);
        int lostAt = -1;
        parts.Run(processes: 8, Workflows, r => (CausalMicroWorkload.Name, workload.Next(r)), checkEveryStep: false, onStep: _ =>
        {
            if (lostAt >= 0 || parts.Results.Count < 100) return;
            lostAt = parts.Results.Count;
            lose();
        });
        Assert.True(lostAt >= 0, "the run ended before the link was lost");
        return lostAt;
    }

    private static void AssertStoppedNaming(CausalParts parts, int lostAt, string link)
    {
        Assert.All(parts.Results.Take(lostAt), r => Assert.True(r.Succeeded, $"before the loss: {r.Status} {r.Reason}"));
        // The client learns of a server's loss one message later, and a workflow that finished meanwhile really did (its
        // writes were made before the stop); from the client's first stopped answer on, every answer is a stop naming the link.
        int stoppedFrom = parts.Results.FindIndex(r => r.Reason?.Contains(link, StringComparison.Ordinal) == true);
        Assert.True(stoppedFrom >= lostAt, $"no answer names the lost link '{link}'");
        var after = parts.Results.Skip(stoppedFrom).ToList();
        Assert.True(after.Count > Workflows / 2, $"only {after.Count} answers after the stop: the stop did not stop the run");
        Assert.All(after, r =>
        {
            Assert.False(r.Succeeded);
            Assert.Contains(link, r.Reason);
            Assert.Contains("reliable FIFO links", r.Reason);
        });
        // Both kinds of answer: the workflows in flight fail, the later ones are refused without running.
        Assert.Contains(after, r => r.Status == WorkflowStatus.Failed);
        Assert.Contains(after, r => r.Status == WorkflowStatus.Rejected);
        Assert.Contains(link, parts.Client.Halted);
        Assert.All(parts.Servers, s => Assert.Contains(link, s.Halted));
        Assert.All(parts.Servers, s => Assert.Equal(0, s.WaitingFanIns));
        // The stopped servers ran none of what still reached them (ring messages, hops): it was counted and refused.
        Assert.True(parts.Servers.Sum(s => s.RefusedAfterHalt) > 0, "no server refused anything after the stop");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_server_parts_lost_ring_link_stops_the_cluster_and_every_workflow_is_answered_naming_it(int seed)
    {
        var parts = Parts(seed);
        int lostAt = RunAndLose(parts, () => parts.Servers[1].OnLinkLost(NodeId.CacheServer(2), "connection reset by peer"));
        AssertStoppedNaming(parts, lostAt, "the link from server-1 to server-2 was lost: connection reset by peer");
        // What ran is still a causal history: the stop lost or reordered no write anyone saw.
        var check = new CausalChecker(new CausalCheckerOptions()).Check(new CausalMemoryHistory([.. parts.Records.Select(CausalHistoryWriter.ToChecker)]));
        Assert.True(check.Valid, string.Join("; ", check.Examples.Take(2).Select(e => $"{e.Kind}: {e.Explanation}")));
    }

    [Fact]
    public void The_client_parts_lost_link_stops_the_cluster_and_names_it()
    {
        var parts = Parts(4);
        int lostAt = RunAndLose(parts, () => parts.Client.OnLinkLost(NodeId.CacheServer(3), "heartbeat timed out"));
        AssertStoppedNaming(parts, lostAt, "the link from client-0 to server-3 was lost: heartbeat timed out");
    }

    [Fact]
    public void The_one_process_clusters_hook_stops_it_the_same_way()
    {
        var workload = new CausalMicroWorkload(keys: 8, theta: 0.8);
        var run = new Causal.CausalRun(7, new CausalOptions { Servers = 3, LinkLatency = TimeSpan.FromMicroseconds(20), RingJitter = TimeSpan.FromMilliseconds(1) });
        run.Cluster.Register(workload.Workflow);
        CausalResult? inFlight = null;
        run.Cluster.Submit(CausalMicroWorkload.Name, workload.Next(new Random(7)), r => inFlight = r, new CausalInvocation { Placement = [0, 1, 2] });
        run.Scheduler.RunUntil(() => run.Cluster.Messages >= 2, 1_000_000); // its first function has reported, its second not yet run
        run.Cluster.OnLinkLost(NodeId.CacheServer(0), "link down");
        run.Run(processes: 4, workflows: 40, r => (CausalMicroWorkload.Name, workload.Next(r)), checkEveryStep: false);
        Assert.Equal(WorkflowStatus.Failed, inFlight!.Status);
        Assert.Contains("link down", inFlight.Reason);
        // Submitted before the client heard of the stop: started, then failed; after it: refused.
        Assert.All(run.Results, r => Assert.False(r.Succeeded));
        Assert.Contains(run.Results, r => r.Status == WorkflowStatus.Rejected);
        Assert.All(run.Results, r => Assert.Contains("the link from server-0+server-1+server-2 to server-0 was lost: link down", r.Reason));
        Assert.Contains("link down", run.Cluster.Halted);
    }

    [Fact]
    public void After_a_stop_a_request_is_rejected_naming_the_link_and_the_caller_keeps_its_token()
    {
        var parts = Parts(5);
        var workload = new CausalMicroWorkload(keys: 8, theta: 0.8);
        CausalResult? first = null;
        parts.Client.Submit(CausalMicroWorkload.Name, workload.Next(new Random(1)), r => first = r);
        parts.Scheduler.RunToQuiescence();
        Assert.True(first!.Succeeded, first.Reason);
        parts.Servers[0].OnLinkLost(NodeId.CacheServer(1), "peer closed the connection");
        parts.Scheduler.RunToQuiescence();
        CausalResult? later = null;
        parts.Client.Submit(CausalMicroWorkload.Name, workload.Next(new Random(2)), r => later = r, new CausalInvocation { Token = first.Token });
        parts.Scheduler.RunToQuiescence();
        Assert.Equal(WorkflowStatus.Rejected, later!.Status);
        Assert.Contains("the link from server-0 to server-1 was lost: peer closed the connection", later.Reason);
        Assert.Same(first.Token, later.Token);
    }
}
