using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Driver;
using Leasehold.Runtime.Serializable.Recovery;
using Leasehold.Runtime.Storage;
using Leasehold.Tests.Support;
using Leasehold.Workloads.Banking;

namespace Leasehold.Tests.Recovery;

/// <summary>
/// §7's recovery, seen from outside: a process that crashes with batches logged but not committed is
/// restarted on the same store, and the new one re-executes exactly those batches, once, in order,
/// before anything new; a store it cannot recover from is refused naming the cause and left as it was;
/// and a commit whose reply was lost is found committed rather than applied twice. All in the
/// deterministic mode (one seed, one thread, virtual time); every failure names the seed.
/// </summary>
public class RecoveryTests
{
    private static ClusterOptions Options => new()
    {
        Workers = 3, MaxBatchSize = 4, RemoteOpLatency = TimeSpan.FromMicroseconds(7), LinkLatency = TimeSpan.FromMicroseconds(7),
        RecoveryBackoff = TimeSpan.FromMilliseconds(1), PipelineDepth = 4, // batches 4–7 execute together
    };

    private const long CommitStallsAt = 4, LogStallsAt = 8;
    private static readonly string[] Keys = ["k0", "k1", "k2", "k3", "k4"];

    /// <summary>
    /// A first process runs 40 requests (10 batches of 4) in three waves: batches 1–3 commit; batches 4–7
    /// are logged in one write, execute and write their versions, but the commit record of batch 4 never
    /// completes (never written, or written with the reply lost), so they stay uncommitted; and since the
    /// driver keeps one durable write in flight, the input of batches 8–10 never reaches the log, so they never
    /// run. Then it "crashes": its scheduler is never stepped again.
    /// </summary>
    private static Crash CrashWithLoggedBatches(int seed, bool commitLands, Lists lists)
    {
        var memory = new MemoryStateStore();
        var stalling = new StallingStore(memory, (op, batch) => (op, batch) switch
        {
            ("commit", CommitStallsAt) => commitLands ? Stall.AfterEffect : Stall.BeforeEffect,
            ("commit", > CommitStallsAt) => throw new InvalidOperationException($"batch {batch} committed after batch {CommitStallsAt}, whose commit never completed"),
            ("log", >= LogStallsAt) => Stall.BeforeEffect,
            _ => Stall.No,
        });
        var node = new Node(seed, stalling, Options, lists.Workflows);
        var random = new Random(seed);
        for (int id = 1; id <= 40; id++)
        {
            // Each wave is admitted whole before the next: 12 requests (batches 1–3) run to their commits,
            // and batches 4–7 are logged together, before the stalling commit holds the pipeline.
            if (id is 13 or 29) node.Quiesce();
            if (random.Next(3) == 0)
            {
                string a = Keys[random.Next(Keys.Length)], b = Keys[(Array.IndexOf(Keys, a) + 1 + random.Next(Keys.Length - 1)) % Keys.Length];
                node.Submit(Lists.Pair, Lists.PairArgs(a, b, id));
            }
            else node.Submit(Lists.Append, Lists.AppendArgs(Keys[random.Next(Keys.Length)], id));
        }
        node.Quiesce();

        long lastCommitted = commitLands ? CommitStallsAt : CommitStallsAt - 1;
        Assert.Equal(lastCommitted, StoreView.LastCommitted(memory));
        var log = StoreView.Log(memory);
        Assert.True(log.Count > 0, $"seed {seed}: the crash left nothing in the batch log");
        Assert.Equal(Enumerable.Range((int)lastCommitted + 1, (int)(LogStallsAt - 1 - lastCommitted)).Select(b => (long)b), log.Select(b => b.Batch));
        // Batches 4..7 wrote versions before the crash (their execution does not wait for commit).
        Assert.Contains(stalling.Calls, c => c is ("write", > CommitStallsAt and < LogStallsAt));
        return new Crash(memory, node, log, lastCommitted);
    }

    private sealed record Crash(MemoryStateStore Store, Node Node, List<BatchInput> Log, long LastCommitted);

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    public void A_restart_re_executes_every_logged_batch_once_in_timestamp_order_before_new_requests(int seed, bool commitLands)
    {
        var lists = new Lists();
        var crash = CrashWithLoggedBatches(seed, commitLands, lists);
        var before = crash.Node;

        // What the first process did: answered requests committed; logged ones are owed; the rest never ran.
        var answered = Enumerable.Range(0, before.Count).Where(i => before.Answers(i).Count > 0).ToList();
        Assert.All(answered, i => Assert.Equal(WorkflowStatus.Committed, before.Result(i).Status));
        Assert.Equal((int)(CommitStallsAt - 1) * Options.MaxBatchSize, answered.Count); // callers of batch 4 never heard, even when it landed
        var loggedIds = crash.Log.SelectMany(b => b.Requests).Select(r => r.Args.GetLong("id")).ToHashSet();
        long firstLoggedId = loggedIds.Min(), lastLoggedId = loggedIds.Max();
        var unanswered = Enumerable.Range(0, before.Count).Where(i => before.Answers(i).Count == 0).Select(i => before.Request(i).Args.GetLong("id")).ToList();
        // Unanswered and not in the log: before it, the batch whose commit landed; after it, batches never logged (they never ran).
        var landedIds = unanswered.Where(id => !loggedIds.Contains(id) && id < firstLoggedId).ToHashSet();
        var lostIds = unanswered.Where(id => !loggedIds.Contains(id) && id > lastLoggedId).ToHashSet();
        Assert.Equal(commitLands ? Options.MaxBatchSize : 0, landedIds.Count);
        Assert.NotEmpty(lostIds);
        Assert.Equal(unanswered.Count, landedIds.Count + loggedIds.Count + lostIds.Count);

        // A stray version of the first logged batch for a key it does not touch (as a build with another
        // body would have written): recovery discards every uncommitted version, so it must never surface.
        long firstLogged = crash.Log[0].Batch;
        StoreView.WriteVersion(crash.Store, firstLogged, new StateKey(Lists.Table, "stray"), Lists.Encode([999]));

        var runsBefore = new Dictionary<long, int>(lists.Runs);
        var restartStore = new StallingStore(crash.Store);
        var after = new Node(seed + 100, restartStore, Options, lists.Workflows);
        after.Start();
        int fresh1 = after.Submit(Lists.Append, Lists.AppendArgs("k0", 41));
        int fresh2 = after.Submit(Lists.Pair, Lists.PairArgs("k1", "k2", 42));
        after.Quiesce();

        string context = $"seed {seed}, commit {(commitLands ? "landed" : "lost")}";
        Assert.Equal(crash.Log.Count, after.Cluster.Counters.BatchesReexecuted);
        Assert.Empty(StoreView.Log(crash.Store));
        Assert.True(StoreView.LastCommitted(crash.Store) >= crash.Log[^1].Batch, $"{context}: the logged batches did not all commit");
        Assert.True(restartStore.Discarded.Single() > 0, $"{context}: recovery discarded no uncommitted version");
        Assert.Null(StoreView.Committed(crash.Store, Lists.Table, "stray"));
        Assert.Equal(WorkflowStatus.Committed, after.Result(fresh1).Status);
        Assert.Equal(WorkflowStatus.Committed, after.Result(fresh2).Status);
        Assert.True(after.Result(fresh1).Timestamp > crash.Log[^1].Requests[^1].Ts, $"{context}: a new request was stamped before a logged one");

        // The serial execution, in timestamp order, of every request answered before the crash, the batch
        // that landed, every logged request, then the two new ones. The first process stamped its requests
        // in submission order (id order), which the known timestamps confirm, so id order is timestamp order.
        var ts = new SortedDictionary<long, long>();
        foreach (int i in answered) ts[before.Request(i).Args.GetLong("id")] = before.Result(i).Timestamp;
        foreach (var r in crash.Log.SelectMany(b => b.Requests)) ts[r.Args.GetLong("id")] = r.Ts;
        ts[41] = after.Result(fresh1).Timestamp;
        ts[42] = after.Result(fresh2).Timestamp;
        Assert.True(ts.Values.Zip(ts.Values.Skip(1)).All(p => p.First < p.Second), $"{context}: timestamps are not in submission order");
        List<(string Workflow, Args Args, string? Key)> requests = [.. Enumerable.Range(0, before.Count).Select(before.Request),
            (Lists.Append, Lists.AppendArgs("k0", 41), null), (Lists.Pair, Lists.PairArgs("k1", "k2", 42), null)];
        var ran = requests.Where(r => !lostIds.Contains(r.Args.GetLong("id"))).ToList();
        foreach (string key in Keys)
        {
            var expected = ran.Where(r => Lists.KeysOf(r.Workflow, r.Args).Contains(key)).Select(r => r.Args.GetLong("id")).Order().ToList();
            var actual = Lists.Decode(StoreView.Committed(crash.Store, Lists.Table, key));
            Assert.True(expected.SequenceEqual(actual), $"{context}: key {key} holds [{string.Join(",", actual)}], a serial run gives [{string.Join(",", expected)}]");
        }

        // Each logged request ran once more (its re-execution), nothing else ran again, nothing unlogged ran.
        foreach (var (workflow, args, _) in requests.Take(before.Count))
        {
            long id = args.GetLong("id");
            int functions = workflow == Lists.Pair ? 2 : 1;
            int delta = lists.Runs.GetValueOrDefault(id) - runsBefore.GetValueOrDefault(id);
            Assert.True(delta == (loggedIds.Contains(id) ? functions : 0), $"{context}: request {id} ran {delta} more times after the restart");
        }
    }

    /// <summary>
    /// The same crash with the banking workload: deposits and transfers (some aborting on an insufficient
    /// balance). After the restart every balance equals the serial reference run, in timestamp order, of
    /// the requests committed before the crash and the logged ones; the unlogged ones never ran.
    /// </summary>
    [Theory]
    [InlineData(7)]
    [InlineData(8)]
    public void A_restarted_banking_cluster_ends_in_the_serial_state_of_committed_and_logged_requests(int seed)
    {
        var workload = new BankingWorkload(accounts: 8, initialBalance: 30, theta: 0.6, transferShare: 0.7, maxAmount: 40);
        var memory = new MemoryStateStore();
        memory.Load(workload.InitialState());
        var stalling = new StallingStore(memory, (op, batch) => (op, batch) switch
        {
            ("commit", >= CommitStallsAt) => Stall.BeforeEffect,
            ("log", >= LogStallsAt) => Stall.BeforeEffect,
            _ => Stall.No,
        });
        var first = new Node(seed, stalling, Options, workload.Workflows);
        var random = new Random(seed);
        for (int i = 0; i < 40; i++)
        {
            if (i is 12 or 28) first.Quiesce(); // the waves of CrashWithLoggedBatches
            var (wf, args) = workload.Next(random);
            first.Submit(wf, args);
        }
        first.Quiesce();
        var log = StoreView.Log(memory);
        Assert.Equal(Enumerable.Range((int)CommitStallsAt, (int)(LogStallsAt - CommitStallsAt)).Select(b => (long)b), log.Select(b => b.Batch));

        var after = new Node(seed + 100, memory, Options, workload.Workflows);
        after.Start();
        after.Quiesce();

        var reference = new SerialReference(workload.InitialState());
        var definitions = workload.Workflows.ToDictionary(w => w.Name);
        var ordered = Enumerable.Range(0, first.Count).Where(i => first.Answers(i).Count > 0)
            .Select(i => (Ts: first.Result(i).Timestamp, first.Request(i).Workflow, first.Request(i).Args, Answer: (WorkflowResult?)first.Result(i)))
            .Concat(log.SelectMany(b => b.Requests).Select(r => (r.Ts, r.Workflow, r.Args, Answer: (WorkflowResult?)null)))
            .OrderBy(r => r.Ts);
        int aborted = 0;
        foreach (var (ts, wf, args, answer) in ordered)
        {
            var expected = reference.Execute(definitions[wf], args, ts, DateTimeOffset.UnixEpoch);
            if (expected.Status == WorkflowStatus.Aborted) aborted++;
            // What the first process answered before the crash is what the serial run gives.
            if (answer is not null) Assert.True(expected.Status == answer.Status, $"seed {seed}: {wf}{args} answered {answer}, the serial run gives {expected}");
        }
        Assert.True(aborted > 0, $"seed {seed}: no transfer aborted, so the abort path went untested");
        Assert.Equal(log.Count, after.Cluster.Counters.BatchesReexecuted);
        Assert.Empty(StoreView.Log(memory));
        for (int a = 0; a < workload.Accounts; a++)
        {
            var key = new StateKey(BankingWorkload.Table, workload.AccountKey(a));
            Assert.True(Value.ToLong(reference.Get(key)) == StoreView.CommittedLong(memory, key.Table, key.Key),
                $"seed {seed}: {key.Key} holds {StoreView.CommittedLong(memory, key.Table, key.Key)}, the serial run gives {Value.ToLong(reference.Get(key))}");
        }
    }

    // ---- refusals -------------------------------------------------------------------------------------

    /// <summary>The store as a refused start must leave it: last commit, log records byte for byte, and committed values.</summary>
    private static (long Last, List<KeyValuePair<long, byte[]>> Log, List<(string, List<long>)> Values) Snapshot(IStateStore store) =>
        (StoreView.LastCommitted(store), StoreView.RawLog(store),
         Keys.Select(k => (k, Lists.Decode(StoreView.Committed(store, Lists.Table, k)))).ToList());

    private static void AssertUnchanged((long Last, List<KeyValuePair<long, byte[]>> Log, List<(string, List<long>)> Values) before, IStateStore store, StallingStore refused, string context)
    {
        var now = Snapshot(store);
        Assert.Equal(before.Last, now.Last);
        Assert.Equal(before.Log.Select(e => e.Key), now.Log.Select(e => e.Key));
        Assert.All(before.Log.Zip(now.Log), p => Assert.True(p.First.Value.AsSpan().SequenceEqual(p.Second.Value), $"{context}: the record of batch {p.First.Key} changed"));
        Assert.Equal(before.Values.Select(v => $"{v.Item1}=[{string.Join(",", v.Item2)}]"), now.Values.Select(v => $"{v.Item1}=[{string.Join(",", v.Item2)}]"));
        // Not even uncommitted versions are discarded, nor the start counted: the refusal writes nothing.
        Assert.True(!refused.MutatingCalls.Any(), $"{context}: the refused start called {string.Join(", ", refused.MutatingCalls)}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_logged_batch_naming_an_unregistered_workflow_refuses_the_start_naming_it_and_leaves_the_store(int seed)
    {
        var lists = new Lists();
        Crash crash;
        int attempt = seed;
        // The crash must leave a pair request in the log (most seeds do; the loop only guards the test).
        while (!(crash = CrashWithLoggedBatches(attempt, commitLands: false, lists)).Log.SelectMany(b => b.Requests).Any(r => r.Workflow == Lists.Pair))
            attempt += 1000;
        long batchWithPair = crash.Log.First(b => b.Requests.Any(r => r.Workflow == Lists.Pair)).Batch;
        var snapshot = Snapshot(crash.Store);

        var refused = new StallingStore(crash.Store);
        var node = new Node(attempt + 100, refused, Options, [lists.AppendWorkflow()]);
        var e = Assert.Throws<RecoveryException>(node.Start);
        Assert.Contains("'pair'", e.Message);
        Assert.Contains("not registered", e.Message);
        Assert.Contains($"batch {batchWithPair}", e.Message);
        AssertUnchanged(snapshot, crash.Store, refused, $"seed {attempt}");
        Assert.Equal(0, node.Cluster.Counters.BatchesReexecuted);

        // The cluster stays stopped and says why; a request never runs on a store it could not recover.
        int late = node.Submit(Lists.Append, Lists.AppendArgs("k0", 77));
        node.Quiesce();
        Assert.Equal(WorkflowStatus.Rejected, node.Result(late).Status);
        Assert.Contains("'pair'", node.Result(late).Reason);
        Assert.False(lists.Runs.ContainsKey(77));

        // Registering every workflow recovers the same store.
        var fixedNode = new Node(attempt + 200, crash.Store, Options, lists.Workflows);
        fixedNode.Start();
        fixedNode.Quiesce();
        Assert.Equal(crash.Log.Count, fixedNode.Cluster.Counters.BatchesReexecuted);
        Assert.Empty(StoreView.Log(crash.Store));
    }

    public enum Corruption { Truncated, WrongBatch, Gap, Garbage }

    [Theory]
    [InlineData(Corruption.Truncated)]
    [InlineData(Corruption.WrongBatch)]
    [InlineData(Corruption.Gap)]
    [InlineData(Corruption.Garbage)]
    public void A_corrupted_batch_log_refuses_the_start_naming_the_batch_and_leaves_the_store(Corruption corruption)
    {
        const int seed = 5;
        var lists = new Lists();
        var crash = CrashWithLoggedBatches(seed, commitLands: false, lists);
        var raw = StoreView.RawLog(crash.Store);
        long target = raw[1].Key; // the second logged batch
        byte[] record = corruption switch
        {
            Corruption.Truncated => raw[1].Value[..^5],
            Corruption.WrongBatch => raw[0].Value, // batch 4's record filed under batch 5
            Corruption.Gap => raw[^1].Value,
            Corruption.Garbage => [2, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3],
            _ => throw new ArgumentOutOfRangeException(nameof(corruption)),
        };
        if (corruption == Corruption.Gap) target = raw[^1].Key + 2; // a record two past the end: batch last+1 is missing
        StoreView.AppendLog(crash.Store, target, record);
        var snapshot = Snapshot(crash.Store);

        var refused = new StallingStore(crash.Store);
        var node = new Node(seed + 100, refused, Options, lists.Workflows);
        var e = Assert.Throws<RecoveryException>(node.Start);
        Assert.Contains($"batch {target}", e.Message);
        Assert.Contains(corruption switch
        {
            Corruption.Truncated => "ends early",
            Corruption.WrongBatch => $"says it is batch {raw[0].Key}",
            Corruption.Gap => "gap",
            _ => "cannot be read",
        }, e.Message);
        AssertUnchanged(snapshot, crash.Store, refused, $"seed {seed}, {corruption}");
        Assert.Equal(0, node.Cluster.Counters.BatchesReexecuted);
    }

    // ---- rollback with a lost commit reply ------------------------------------------------------------

    /// <summary>
    /// The commit record of one batch lands but its reply is lost (or, for contrast, the write fails before
    /// it lands): the driver sees a failure and the cluster rolls back. Recovery must find the batch
    /// committed (or not) from the store: every caller gets exactly one Committed answer, and every
    /// request's effect is in the state exactly once, in timestamp order.
    /// </summary>
    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    [InlineData(1, false)]
    [InlineData(2, false)]
    public void A_failed_commit_rolls_back_without_losing_or_doubling_an_effect(int seed, bool landed)
    {
        const long failing = 3;
        var memory = new MemoryStateStore();
        int faults = 0;
        Exception? Once(string op, long lastCommitted, string what) =>
            op == "commit" && StoreView.LastCommitted(memory) == lastCommitted && faults == 0 && ++faults > 0 ? new IOException(what) : null;
        var faulty = new FaultyStore(memory,
            fault: op => landed ? null : Once(op, failing - 1, "connection reset"), // batch 3's commit record is never written
            faultAfter: op => landed ? Once(op, failing, "reply lost") : null); // batch 3's commit record is written, its reply lost
        var lists = new Lists();
        var node = new Node(seed, faulty, Options, lists.Workflows);
        var random = new Random(seed);
        for (int id = 1; id <= 24; id++) node.Submit(Lists.Append, Lists.AppendArgs(Keys[random.Next(Keys.Length)], id));
        node.RunUntil(() => node.AllAnswered, "answered every request");
        node.Quiesce();

        string context = $"seed {seed}, commit {(landed ? "landed, reply lost" : "failed")}";
        Assert.Equal(1, faults);
        Assert.Equal(1, node.Cluster.Counters.Rollbacks);
        for (int i = 0; i < node.Count; i++)
            Assert.True(node.Result(i).IsCommitted, $"{context}: request {i}: {node.Result(i)}");
        foreach (string key in Keys)
        {
            var expected = Enumerable.Range(0, node.Count).Where(i => node.Request(i).Args.GetString("key") == key)
                .OrderBy(i => node.Result(i).Timestamp).Select(i => node.Request(i).Args.GetLong("id")).ToList();
            var actual = Lists.Decode(StoreView.Committed(memory, Lists.Table, key));
            Assert.True(expected.SequenceEqual(actual), $"{context}: key {key} holds [{string.Join(",", actual)}], expected [{string.Join(",", expected)}]");
            // Each output is the list length right after the append: the position of the id in the final list.
            foreach (int i in Enumerable.Range(0, node.Count).Where(i => node.Request(i).Args.GetString("key") == key))
                Assert.Equal(actual.IndexOf(node.Request(i).Args.GetLong("id")) + 1, Value.ToLong(node.Result(i).Outputs[0]));
        }
        // The batch whose commit landed ran once: recovery answered its callers rather than re-executing it.
        var failingIds = Enumerable.Range(0, node.Count).Where(i => node.Result(i).Timestamp > 0)
            .OrderBy(i => node.Result(i).Timestamp).Skip((int)(failing - 1) * Options.MaxBatchSize).Take(Options.MaxBatchSize)
            .Select(i => node.Request(i).Args.GetLong("id"));
        Assert.All(failingIds, id => Assert.Equal(landed ? 1 : 2, lists.Runs[id]));
        Assert.Empty(StoreView.Log(memory));
    }
}
