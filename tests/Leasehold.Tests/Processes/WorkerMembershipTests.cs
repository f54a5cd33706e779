using Leasehold.Runtime.Hosting.Processes;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Workloads.Causal;

namespace Leasehold.Tests.Processes;

/// <summary>
/// The causal mode's admission of worker processes, as separate processes would build it: the driver's
/// <see cref="WorkerMembership"/> and one join-only <see cref="WorkerProcessHost"/> per worker, each with its own copy of
/// the workflows, every control message through the codec, in the deterministic mode so a failing seed replays.
/// </summary>
public class WorkerMembershipTests
{
    private sealed class Cluster
    {
        public Cluster(int seed, int workers, Func<int, IReadOnlyList<WorkflowDefinition>> workflowsOf, bool withMembership = true)
        {
            Scheduler = new DeterministicScheduler(seed, 0.3);
            Transport = new SerialisingInprocTransport(Scheduler, TimeSpan.FromMicroseconds(30));
            // The driver's workflows and each worker's are built separately, as each process loads its own.
            if (withMembership) Membership = new WorkerMembership(workers, Scheduler, Transport, DriverWorkflows(), Timeout.InfiniteTimeSpan);
            Hosts = [.. Enumerable.Range(0, workers).Select(i => new WorkerProcessHost(i, $"worker-{i}", Scheduler, Transport, workflowsOf(i)))];
        }

        public DeterministicScheduler Scheduler { get; }
        public SerialisingInprocTransport Transport { get; }
        public WorkerMembership? Membership { get; }
        public WorkerProcessHost[] Hosts { get; }

        public void JoinAll()
        {
            foreach (var h in Hosts) h.Join();
        }

        public void RunUntil(Func<bool> done)
        {
            Scheduler.RunUntil(() => done() || Scheduler.Fault is not null, 1_000_000);
            if (Scheduler.Fault is { } fault) throw new Xunit.Sdk.XunitException($"fault: {fault}");
        }
    }

    private static IReadOnlyList<WorkflowDefinition> DriverWorkflows() => new CausalMicroWorkload(keys: 100, length: 3).Workflows;

    [Fact]
    public async Task Every_worker_with_the_drivers_workflows_joins_and_exits_cleanly_on_shutdown()
    {
        for (int seed = 1; seed <= 5; seed++)
        {
            var cluster = new Cluster(seed, 3, _ => DriverWorkflows());
            var joined = cluster.Membership!.JoinedAsync();
            cluster.JoinAll();
            cluster.RunUntil(() => joined.IsCompleted);

            Assert.Null(await joined);
            Assert.Equal([0, 1, 2], cluster.Membership.Joined);
            Assert.All(cluster.Hosts, h => Assert.False(h.Stopped.IsCompleted, $"seed {seed}: a host stopped before the shutdown"));

            cluster.Membership.Shutdown("the run ended");
            cluster.RunUntil(() => cluster.Hosts.All(h => h.Stopped.IsCompleted));
            foreach (var h in cluster.Hosts)
            {
                var stop = await h.Stopped;
                Assert.True(stop.Clean, $"seed {seed}: {stop.Reason}");
                Assert.Equal("the run ended", stop.Reason);
            }
        }
    }

    [Fact]
    public async Task A_worker_with_other_workflows_is_refused_and_the_wait_names_it_and_the_difference()
    {
        // worker-1 runs the micro-benchmark as transactions: the same names, another definition.
        var cluster = new Cluster(1, 3, i => i == 1 ? new CausalMicroWorkload(keys: 100, length: 3, consistency: Consistency.TransactionalCausal).Workflows : DriverWorkflows());
        var joined = cluster.Membership!.JoinedAsync();
        cluster.JoinAll();
        cluster.RunUntil(() => joined.IsCompleted && cluster.Hosts[1].Stopped.IsCompleted);

        var failure = await joined;
        Assert.NotNull(failure);
        Assert.Contains("worker-1 (process 'worker-1') was refused", failure);
        Assert.Contains($"workflow '{CausalMicroWorkload.Name}' has definition", failure);
        var refused = await cluster.Hosts[1].Stopped;
        Assert.False(refused.Clean);
        Assert.Contains("workflows differ", refused.Reason);
        Assert.DoesNotContain(1, cluster.Membership.Joined);
        // A wait that starts after the refusal hears of it at once.
        var late = cluster.Membership.JoinedAsync();
        cluster.RunUntil(() => late.IsCompleted);
        Assert.Equal(failure, await late);
    }

    [Fact]
    public async Task A_worker_with_a_workflow_the_driver_lacks_is_refused_naming_that_workflow()
    {
        var media = new MediaWorkload().Workflows;
        var cluster = new Cluster(2, 2, i => i == 0 ? [.. DriverWorkflows(), .. media] : DriverWorkflows());
        var joined = cluster.Membership!.JoinedAsync();
        cluster.JoinAll();
        cluster.RunUntil(() => joined.IsCompleted);

        var failure = await joined;
        Assert.NotNull(failure);
        Assert.Contains("worker-0", failure);
        Assert.Contains($"it has workflow '{media[0].Name}', which the driver does not", failure);
    }

    [Fact]
    public async Task A_lost_worker_process_ends_the_wait_with_the_links_reason()
    {
        var cluster = new Cluster(3, 3, _ => DriverWorkflows());
        var joined = cluster.Membership!.JoinedAsync();
        cluster.Hosts[0].Join();
        cluster.Hosts[2].Join();
        cluster.RunUntil(() => cluster.Membership.Joined.Count == 2);
        Assert.False(joined.IsCompleted);

        cluster.Membership.Lost([NodeId.Worker(1), NodeId.CacheServer(1)], "connection reset by peer");
        cluster.RunUntil(() => joined.IsCompleted);

        var failure = await joined;
        Assert.NotNull(failure);
        Assert.Contains("connection reset by peer", failure);
        Assert.Contains("static membership", failure);
    }

    [Fact]
    public async Task A_join_only_host_told_to_start_an_incarnation_stops_naming_why()
    {
        var cluster = new Cluster(4, 1, _ => DriverWorkflows(), withMembership: false);
        var driverHost = cluster.Transport.Register(NodeId.DriverHost, new Incarnation(0), cluster.Scheduler.CreateMailbox("driver-host"), new Ignore());
        driverHost.Mailbox.Post(() => driverHost.Send(NodeId.WorkerHost(0), new StartIncarnationMsg(0, 1, "{}")));
        cluster.RunUntil(() => cluster.Hosts[0].Stopped.IsCompleted);

        var stop = await cluster.Hosts[0].Stopped;
        Assert.False(stop.Clean);
        Assert.Contains("runs no serializable worker", stop.Reason);
        Assert.Equal(-1, cluster.Hosts[0].Incarnation);
    }

    private sealed class Ignore : IMessageSink
    {
        public void Receive(Message message) { }
    }
}
