using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Transport;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Processes;

/// <summary>
/// The driver and its workers as separate processes would run them: the workers are built by their processes'
/// hosts, each incarnation is started and retired through the hosts' control messages, and every message crosses
/// the codec. Deterministic, so a failing seed replays.
/// </summary>
public class WorkerProcessHostTests
{
    private static readonly WorkflowDefinition Increment = new WorkflowBuilder("inc")
        .Function("read", f => f.Reads("t", a => a.GetString("a")).Body(ctx => Value.FromLong(ctx.ReadLong("t", ctx.Args.GetString("a")))))
        .Function("add", f => f.After("read").Updates("t", a => a.GetString("b"))
            .Body(ctx => ctx.WriteLong("t", ctx.Args.GetString("b"), ctx.ReadLong("t", ctx.Args.GetString("b")) + 1)))
        .Build();

    private static readonly WorkflowDefinition Decrement = new WorkflowBuilder("inc")
        .Function("read", f => f.Reads("t", a => a.GetString("a")).Body(ctx => Value.FromLong(ctx.ReadLong("t", ctx.Args.GetString("a")))))
        .Function("add", f => f.After("read").Updates("t", a => a.GetString("b"))
            .Body(ctx => ctx.WriteLong("t", ctx.Args.GetString("b"), ctx.ReadLong("t", ctx.Args.GetString("b")) - 1)))
        .Build();

    private static ClusterOptions Options => new()
    {
        Workers = 3,
        LinkLatency = TimeSpan.FromMicroseconds(30),
        RemoteOpLatency = TimeSpan.FromMicroseconds(10),
        MaxBatchSize = 4,
        AffinityWeight = 0.2,
        LoadWeight = 3,
        // Time may pass here while work is pending: a deadline could expire before a reply already on its way.
        StoreCallDeadline = Timeout.InfiniteTimeSpan,
    };

    private static IEnumerable<KeyValuePair<StateKey, byte[]>> Keys(int n) =>
        Enumerable.Range(0, n).Select(k => new KeyValuePair<StateKey, byte[]>(new StateKey("t", $"k{k}"), Value.FromLong(0)));

    private static void SubmitIncrements(SimulatedProcesses sim, int count, int keys)
    {
        var random = new Random(sim.Seed);
        for (int i = 0; i < count; i++)
            sim.Submit("inc", Args.Create().Set("a", $"k{random.Next(keys)}").Set("b", $"k{random.Next(keys)}").Build());
    }

    /// <summary>Every committed increment is in the store exactly once, and no other.</summary>
    private static void AssertAppliedOnce(SimulatedProcesses sim, int keys)
    {
        var committed = sim.Submitted.Where(s => s.Result!.Status == WorkflowStatus.Committed).ToList();
        for (int k = 0; k < keys; k++)
        {
            long applied = committed.Count(s => s.Args.GetString("b") == $"k{k}");
            Assert.True(applied == sim.CommittedLong("t", $"k{k}"), $"seed {sim.Seed}: k{k} holds {sim.CommittedLong("t", $"k{k}")}, {applied} increments committed");
        }
    }

    [Fact]
    public void Workers_built_by_their_hosts_run_every_request_once()
    {
        for (int seed = 1; seed <= 8; seed++)
        {
            var sim = new SimulatedProcesses(seed, Options, Keys(6), null, [Increment]);
            SubmitIncrements(sim, 40, 6);
            sim.RunToCompletion();

            Assert.All(sim.Submitted, s => Assert.Equal(WorkflowStatus.Committed, s.Result!.Status));
            AssertAppliedOnce(sim, 6);
            Assert.Equal([0, 1, 2], sim.Cluster.JoinedWorkers);
            Assert.All(sim.Hosts, h => Assert.Equal(0, h.Incarnation));
            // The workers' accesses are counted in their own processes; the driver's counters see none of them.
            Assert.True(sim.Hosts.Sum(h => h.Counters.LocalAccesses + h.Counters.RemoteAccesses) > 0, $"seed {seed}: no worker counted an access");
            Assert.Equal(0, sim.Cluster.Counters.LocalAccesses + sim.Cluster.Counters.RemoteAccesses);
        }
    }

    [Fact]
    public void A_rollback_starts_the_next_incarnation_in_every_worker_process()
    {
        int rolledBack = 0;
        for (int seed = 1; seed <= 8; seed++)
        {
            int writes = 0;
            var sim = new SimulatedProcesses(seed, Options, Keys(6),
                store => new FaultyStore(store, op => op == "write" && Interlocked.Increment(ref writes) == 3 ? new IOException("injected") : null), [Increment]);
            SubmitIncrements(sim, 40, 6);
            sim.RunToCompletion();

            Assert.All(sim.Submitted, s => Assert.Equal(WorkflowStatus.Committed, s.Result!.Status));
            AssertAppliedOnce(sim, 6);
            if (sim.Cluster.Counters.Rollbacks > 0)
            {
                rolledBack++;
                Assert.All(sim.Hosts, h => Assert.True(h.Incarnation >= 1, $"seed {seed}: a host still runs incarnation {h.Incarnation} after the rollback"));
            }
        }
        Assert.True(rolledBack > 0, "no seed rolled back: the injected failure never fired");
    }

    [Fact]
    public async Task A_worker_with_other_workflows_is_refused_and_the_driver_says_which()
    {
        var sim = new SimulatedProcesses(1, Options, Keys(2), null, [Increment], worker => worker == 1 ? [Decrement] : [Increment]);
        var start = sim.Cluster.StartAsync();
        sim.Scheduler.RunUntil(() => start.IsCompleted && sim.Hosts[1].Stopped.IsCompleted, 1_000_000);
        Assert.True(start.IsCompleted && sim.Hosts[1].Stopped.IsCompleted, "the refused join did not end the start and the host");

        var refused = await sim.Hosts[1].Stopped;
        Assert.False(refused.Clean);
        Assert.Contains("worker-1", refused.Reason);
        Assert.Contains("workflow 'inc' has definition", refused.Reason);
        var failure = await Assert.ThrowsAsync<RecoveryException>(() => start);
        Assert.Contains("worker-1 (process 'worker-1') was refused", failure.Message);
        Assert.False(sim.Hosts[0].Stopped.IsCompleted);
    }

    /// <summary>
    /// A link between two worker processes breaks (one of them says so): the batch in flight can never finish, so the
    /// cluster must stop, naming the link, as for a lost worker; it used to wait for the batch for ever.
    /// </summary>
    [Fact]
    public void A_link_lost_between_two_worker_processes_stops_the_cluster_and_corrupts_nothing()
    {
        for (int seed = 1; seed <= 6; seed++)
        {
            var sim = new SimulatedProcesses(seed, Options, Keys(6), null, [Increment]);
            SubmitIncrements(sim, 20, 6);
            sim.Scheduler.RunUntil(() => sim.Submitted.Count(s => s.Result is not null) >= 5 || sim.Scheduler.Fault is not null);
            sim.Hosts[0].LinkLost(toDriver: false, "worker-2: the peer closed the connection");
            SubmitIncrements(sim, 5, 6);
            sim.RunToCompletion();

            Assert.NotNull(sim.Cluster.StopReason);
            Assert.Contains("worker-0 lost a link: worker-2: the peer closed the connection", sim.Cluster.StopReason);
            Assert.All(sim.Submitted, s => Assert.Contains(s.Result!.Status, new[] { WorkflowStatus.Committed, WorkflowStatus.Unknown, WorkflowStatus.Failed, WorkflowStatus.Rejected }));
            AssertAppliedOnce(sim, 6);
        }
    }

    [Fact]
    public void A_lost_worker_process_stops_the_cluster_and_corrupts_nothing()
    {
        for (int seed = 1; seed <= 6; seed++)
        {
            var sim = new SimulatedProcesses(seed, Options, Keys(6), null, [Increment]);
            SubmitIncrements(sim, 20, 6);
            sim.Scheduler.RunUntil(() => sim.Submitted.Count(s => s.Result is not null) >= 5 || sim.Scheduler.Fault is not null);
            sim.Cluster.LinkLost([NodeId.Worker(1), NodeId.CacheServer(1)], "connection reset by peer");
            SubmitIncrements(sim, 5, 6);
            sim.RunToCompletion();

            Assert.NotNull(sim.Cluster.StopReason);
            Assert.Contains("connection reset by peer", sim.Cluster.StopReason);
            Assert.Contains("static membership", sim.Cluster.StopReason);
            // Nothing acknowledged was lost and nothing unacknowledged applied: each outcome is one the caller can act on.
            Assert.All(sim.Submitted, s => Assert.Contains(s.Result!.Status, new[] { WorkflowStatus.Committed, WorkflowStatus.Unknown, WorkflowStatus.Failed, WorkflowStatus.Rejected }));
            AssertAppliedOnce(sim, 6);
        }
    }
}
