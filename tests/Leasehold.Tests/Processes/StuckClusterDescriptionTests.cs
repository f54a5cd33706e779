using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Transport;

namespace Leasehold.Tests.Processes;

/// <summary>
/// A cluster that stops answering says what each part waits for: the driver names the batch and the workers it
/// still waits for, and each worker process, asked over the hosts' control messages, names its own batches. The
/// bench prints this when a run hangs, so a hang seen once is a diagnosis, not a mystery. Deterministic.
/// </summary>
public class StuckClusterDescriptionTests
{
    private static readonly WorkflowDefinition Increment = new WorkflowBuilder("inc")
        .Function("add", f => f.Updates("t", a => a.GetString("k"))
            .Body(ctx => ctx.WriteLong("t", ctx.Args.GetString("k"), ctx.ReadLong("t", ctx.Args.GetString("k")) + 1)))
        .Build();

    private static ClusterOptions Options => new()
    {
        Workers = 3,
        LinkLatency = TimeSpan.FromMicroseconds(30),
        RemoteOpLatency = TimeSpan.FromMicroseconds(10),
        StoreCallDeadline = Timeout.InfiniteTimeSpan,
    };

    /// <summary>Loses every message <paramref name="lost"/> picks on its way to <paramref name="node"/>.</summary>
    private sealed class Losing(ITransport inner, NodeId node, Func<Message, bool> lost) : ITransport
    {
        public Endpoint Register(NodeId at, Incarnation incarnation, Mailbox mailbox, IMessageSink sink) =>
            inner.Register(at, incarnation, mailbox, at == node ? new Sink(sink, lost) : sink);

        public long Messages => inner.Messages;
        public long StaleRefused => inner.StaleRefused;

        private sealed class Sink(IMessageSink inner, Func<Message, bool> lost) : IMessageSink
        {
            public void Receive(Message message)
            {
                if (!lost(message)) inner.Receive(message);
            }
        }
    }

    /// <summary>Every end-of-batch marker worker 0 sends worker 1: worker 1 can never open a batch.</summary>
    private static ITransport LosingRecords(ITransport inner) =>
        new Losing(inner, NodeId.Worker(1), m => m is RecordsMsg && m.From == NodeId.Worker(0));

    /// <summary>Every question to worker 2's host: a process that is alive but not running (SIGSTOP).</summary>
    private static ITransport FrozenHost(ITransport inner) =>
        new Losing(inner, NodeId.WorkerHost(2), m => m is Runtime.Hosting.Processes.DescribeMsg);

    [Fact]
    public async Task A_cluster_that_lost_a_message_names_the_batch_and_the_worker_that_waits()
    {
        const int seed = 3;
        var sim = new SimulatedProcesses(seed, Options, [new(new StateKey("t", "k0"), Value.FromLong(0))], null, [Increment], wrapTransport: LosingRecords);
        for (int i = 0; i < 6; i++) sim.Submit("inc", Args.Create().Set("k", "k0").Build());
        // Every worker has joined and the first batch is planned, but it can never finish: nothing is answered.
        sim.Scheduler.RunUntil(() => sim.Cluster.DriverBatchesInFlight > 0 && sim.Hosts.All(h => h.Incarnation == 0), 5_000_000);
        long settled = sim.Scheduler.Steps + 200_000;
        sim.Scheduler.RunUntil(() => sim.Scheduler.Steps >= settled); // or until nothing is left to run
        Assert.Null(sim.Scheduler.Fault);
        Assert.True(sim.Submitted.All(s => s.Result is null), $"seed {seed}: a request was answered although worker 1 never hears worker 0's records");

        var described = sim.Cluster.DescribeAsync(Timeout.InfiniteTimeSpan);
        sim.Scheduler.RunUntil(() => described.IsCompleted, sim.Scheduler.Steps + 1_000_000);
        // Checked, not assumed: awaiting a description the scheduler never finished would hang the test instead of failing it.
        Assert.True(described.IsCompleted, "the description was not complete when the scheduler had nothing left to run");
        var lines = await described;

        Assert.True(lines.Count == 4, string.Join(Environment.NewLine, lines)); // the driver, then every worker in order
        Assert.StartsWith("driver: ", lines[0]);
        Assert.Matches(@"batch \d+ \(6 requests\): waits for worker [0-9, ]*1", lines[0]);
        Assert.Contains("worker 1: batch", lines[2]);
        Assert.Contains("records from 1 of 2 peers, not open", lines[2]);
        // The workers that heard everyone opened the batch; their lines say so and name the keys they wait on.
        Assert.DoesNotContain("not open", lines[1]);
    }

    [Fact]
    public async Task A_worker_process_that_does_not_answer_is_named_among_those_that_do()
    {
        // Timers in their deadlines' order (no bias): the answers of the live workers, due in microseconds, come before
        // the patience of seconds runs out, so the line of each says what it answered.
        var sim = new SimulatedProcesses(1, Options, [new(new StateKey("t", "k0"), Value.FromLong(0))], null, [Increment], wrapTransport: FrozenHost, timerBias: 0);
        sim.Submit("inc", Args.Create().Set("k", "k0").Build());
        sim.RunToCompletion();

        var described = sim.Cluster.DescribeAsync(TimeSpan.FromSeconds(5));
        sim.Scheduler.RunUntil(() => described.IsCompleted, sim.Scheduler.Steps + 1_000_000);
        // Checked, not assumed: awaiting a description the scheduler never finished would hang the test instead of failing it.
        Assert.True(described.IsCompleted, "the description was not complete when the scheduler had nothing left to run");
        var lines = await described;

        Assert.True(lines.Count == 4, string.Join(Environment.NewLine, lines));
        Assert.StartsWith("worker 2: did not answer within 5 s", lines[3]);
        Assert.Contains("no batch in flight", lines[1]);
        Assert.Contains("no batch in flight", lines[2]);
    }

    [Fact]
    public async Task An_idle_cluster_says_nothing_is_in_flight()
    {
        var sim = new SimulatedProcesses(1, Options, [new(new StateKey("t", "k0"), Value.FromLong(0))], null, [Increment]);
        sim.Submit("inc", Args.Create().Set("k", "k0").Build());
        sim.RunToCompletion();

        var described = sim.Cluster.DescribeAsync(Timeout.InfiniteTimeSpan);
        sim.Scheduler.RunUntil(() => described.IsCompleted, sim.Scheduler.Steps + 1_000_000);
        // Checked, not assumed: awaiting a description the scheduler never finished would hang the test instead of failing it.
        Assert.True(described.IsCompleted, "the description was not complete when the scheduler had nothing left to run");
        var lines = await described;

        Assert.True(lines.Count == 4, string.Join(Environment.NewLine, lines));
        Assert.DoesNotContain("waits for worker", lines[0]);
        Assert.All(lines.Skip(1), line => Assert.Contains("no batch in flight", line));
    }
}
