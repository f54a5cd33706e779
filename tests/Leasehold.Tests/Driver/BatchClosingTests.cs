using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;
using Leasehold.Tests.Support;
using Leasehold.Workloads.Banking;

namespace Leasehold.Tests.Driver;

/// <summary>
/// How batches close (group commit, not a timer) and what reaches the store: idle, a request does not wait
/// for the delay bound; busy, arrivals gather into one batch while the pipeline is full, the workers never run
/// more batches than the pipeline's depth, and one durable write carries a commit record and the next input.
/// All in the deterministic mode; every failure names the seed.
/// </summary>
public class BatchClosingTests
{
    private static readonly BankingWorkload Bank = new(accounts: 200, initialBalance: 1_000, theta: 0.5);

    /// <summary>
    /// One client, one request at a time, with a delay bound of ten (virtual) seconds: each request closes its
    /// own batch as soon as the driver has taken it. On a timer, 30 requests would take 300 virtual seconds.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void An_idle_cluster_answers_a_request_without_waiting_for_the_delay_bound(int seed)
    {
        var options = new ClusterOptions { Workers = 2, MaxBatchDelay = TimeSpan.FromSeconds(10), LinkLatency = TimeSpan.FromMicroseconds(20) };
        var sim = new SimulatedCluster(seed, options, Bank.InitialState(), [.. Bank.Workflows]);
        var random = new Random(seed);
        int remaining = 30;
        long lastAnswerNs = 0;
        void Next(WorkflowResult _)
        {
            lastAnswerNs = sim.Scheduler.VirtualTime.Nanoseconds;
            if (--remaining < 0) return;
            var (wf, args) = Bank.Next(random);
            sim.Submit(wf, args, Next);
        }
        Next(null!);
        sim.RunToCompletion();
        // The time of the last answer: running to completion afterwards lets the (now idle) delay timers fire.
        var took = TimeSpan.FromTicks(lastAnswerNs / 100);
        Assert.True(took < TimeSpan.FromSeconds(1), $"seed {seed}: 30 sequential requests took {took} of virtual time: a batch waited for its delay bound");
        Assert.All(sim.Submitted, s => Assert.True(s.Result!.Status is WorkflowStatus.Committed or WorkflowStatus.Aborted, $"seed {seed}: {s.Result}"));
    }

    /// <summary>
    /// 64 closed-loop clients: batches gather what arrives while the pipeline is busy (far more than one request
    /// each), the store never holds more logged, uncommitted batches than the pipeline's depth, and up to a depth
    /// of 2 the durable writes are about one per batch (a commit record and the next input together), not two.
    /// </summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    public void A_busy_cluster_groups_arrivals_bounds_the_pipeline_and_writes_once_per_batch(int seed, int depth)
    {
        var options = new ClusterOptions { Workers = 4, PipelineDepth = depth, MaxBatchDelay = TimeSpan.FromSeconds(10), LinkLatency = TimeSpan.FromMicroseconds(20), RemoteOpLatency = TimeSpan.FromMicroseconds(7) };
        LogWriteRecorder? recorder = null;
        DeterministicScheduler? scheduler = null;
        // Each durable write takes 300 µs of virtual time, as an fsync does: what arrives meanwhile waits for the next.
        var sim = new SimulatedCluster(seed, 0, options, Bank.InitialState(), store => recorder = new LogWriteRecorder(store, () => scheduler!, TimeSpan.FromMicroseconds(300)), [.. Bank.Workflows]);
        scheduler = sim.Scheduler;
        var random = new Random(seed);
        int remaining = 3_000;
        void Next(WorkflowResult _)
        {
            if (--remaining < 0) return;
            var (wf, args) = Bank.Next(random);
            sim.Submit(wf, args, Next);
        }
        // Clients start 10 µs apart, as real ones do: the first finds the pipeline idle and goes alone, the rest
        // gather behind it, and the two groups then alternate, each write committing one and logging the other.
        for (int client = 0; client < 64; client++) sim.Scheduler.After(TimeSpan.FromMicroseconds(10 * client), () => Next(null!));
        sim.RunToCompletion();

        Assert.Equal(3_000, sim.Submitted.Count);
        var log = recorder!;
        long batches = log.CommittedThrough;
        Assert.True(batches > 0, $"seed {seed}: nothing committed");
        Assert.True(log.MostLoggedUncommitted <= depth, $"seed {seed}: {log.MostLoggedUncommitted} batches were logged and not committed at once; the pipeline's depth is {depth}");
        double perBatch = (double)sim.Submitted.Count / batches;
        Assert.True(perBatch >= 8, $"seed {seed}: {sim.Submitted.Count} requests in {batches} batches ({perBatch:0.0} each): arrivals did not gather while the pipeline was busy");
        // Up to a depth of 2, a batch's input always waits for the commit record it can share a sync with; deeper,
        // an input may go alone while another batch executes (a sync overlapping execution), but never more than
        // one write for each input and each commit record.
        double perBatchLimit = depth <= 2 ? 1.25 : 2.0;
        Assert.True(log.Writes <= batches * perBatchLimit + 2, $"seed {seed}: {log.Writes} durable writes for {batches} batches at depth {depth}: commit records and inputs are not written together");
    }

    /// <summary>
    /// An open loop of 20,000 requests/s for 100 ms against a store whose syncs take 10 ms, with the default
    /// 2 ms delay bound: each round's write must carry everything that arrived during the previous one, so the
    /// last answer comes a few rounds after the last arrival. A batch closed at the delay bound while the
    /// pipeline is full still waits for a place, and split the arrivals into 2 ms batches admitted one per
    /// round: 4,000 requests/s, the last answer at about 500 ms.
    /// </summary>
    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 1)]
    [InlineData(3, 4)]
    public void Under_slow_syncs_the_delay_bound_does_not_split_arrivals_into_batches_that_wait_a_round_each(int seed, int depth)
    {
        var options = new ClusterOptions { Workers = 4, PipelineDepth = depth, LinkLatency = TimeSpan.FromMicroseconds(20), RemoteOpLatency = TimeSpan.FromMicroseconds(7) };
        DeterministicScheduler? scheduler = null;
        var sim = new SimulatedCluster(seed, 0, options, Bank.InitialState(), store => new LogWriteRecorder(store, () => scheduler!, TimeSpan.FromMilliseconds(10)), [.. Bank.Workflows]);
        scheduler = sim.Scheduler;
        var random = new Random(seed);
        long lastAnswerNs = 0;
        const int requests = 2_000;
        for (int i = 0; i < requests; i++)
        {
            var (wf, args) = Bank.Next(random);
            sim.Scheduler.After(TimeSpan.FromMicroseconds(50 * i), () => sim.Submit(wf, args, _ => lastAnswerNs = sim.Scheduler.VirtualTime.Nanoseconds));
        }
        sim.Scheduler.RunUntil(() => sim.Submitted.Count == requests && sim.Submitted.All(s => s.Result is not null) || sim.Scheduler.Fault is not null);
        Assert.True(sim.Scheduler.Fault is null, $"seed {seed}: protocol fault: {sim.Scheduler.Fault}");
        Assert.True(sim.Submitted.Count == requests && sim.Submitted.All(s => s.Result is not null), $"seed {seed}: not every request was answered");
        // Arrivals end at 100 ms; a round is two 10 ms syncs at most (an input, then its commit) plus execution.
        var took = TimeSpan.FromTicks(lastAnswerNs / 100);
        Assert.True(took < TimeSpan.FromMilliseconds(160), $"seed {seed}, depth {depth}: the last answer came at {took.TotalMilliseconds:F1} ms of virtual time ({sim.Cluster.Counters.BatchesCommitted} batches): arrivals were not all carried by each round's write");
    }

    /// <summary>Records what each group-commit write carries, and the most batches logged but not committed at any time.</summary>
    private sealed class LogWriteRecorder(IStateStore inner, Func<DeterministicScheduler> scheduler, TimeSpan syncTime) : DelegatingStore(inner)
    {
        private long _loggedThrough;
        public long Writes { get; private set; }
        public long CommittedThrough { get; private set; }
        public long MostLoggedUncommitted { get; private set; }

        public override ValueTask WriteLogAsync(IReadOnlyList<KeyValuePair<long, ReadOnlyMemory<byte>>> inputs, long commitFrom, long commitThrough, long epoch, CancellationToken c = default)
        {
            Writes++;
            if (commitThrough >= commitFrom) CommittedThrough = commitThrough;
            if (inputs.Count > 0) _loggedThrough = inputs[^1].Key;
            MostLoggedUncommitted = Math.Max(MostLoggedUncommitted, _loggedThrough - CommittedThrough);
            var written = Inner.WriteLogAsync(inputs, commitFrom, commitThrough, epoch, c);
            if (!written.IsCompletedSuccessfully) return written;
            // Completed by the scheduler's own timer, so the continuation stays on its one thread and replays.
            var synced = new TaskCompletionSource();
            scheduler().After(syncTime, synced.SetResult);
            return new ValueTask(synced.Task);
        }
    }
}
