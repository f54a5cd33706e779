using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;
using Leasehold.Tests.Support;
using Leasehold.Workloads.Banking;

namespace Leasehold.Tests.Recovery;

/// <summary>A restart with another worker count than the crashed node's: deterministic mode, one seed each.</summary>
public class RestartWithAnotherWorkerCountTests
{
    private static ClusterOptions Options(int workers) => new()
    {
        Workers = workers, MaxBatchSize = 4, RemoteOpLatency = TimeSpan.FromMicroseconds(7), LinkLatency = TimeSpan.FromMicroseconds(7),
        RecoveryBackoff = TimeSpan.FromMilliseconds(1),
    };

    /// <summary>
    /// A node with <paramref name="before"/> workers crashes with batches 4..7 logged but uncommitted; the restart
    /// has <paramref name="after"/> workers, so logged routes and holders are taken modulo. The state must still be
    /// the serial run's.
    /// </summary>
    [Theory]
    [InlineData(3, 1, 7)]
    [InlineData(3, 2, 11)]
    [InlineData(4, 3, 8)]
    [InlineData(2, 5, 9)]
    [InlineData(5, 2, 10)]
    public void A_restart_with_another_worker_count_re_executes_logged_batches_to_the_serial_state(int before, int after, int seed)
    {
        var workload = new BankingWorkload(accounts: 8, initialBalance: 30, theta: 0.6, transferShare: 0.7, maxAmount: 40);
        var memory = new MemoryStateStore();
        memory.Load(workload.InitialState());
        var stalling = new StallingStore(memory, (op, batch) => (op, batch) switch
        {
            ("commit", >= 4) => Stall.BeforeEffect,
            ("log", >= 8) => Stall.BeforeEffect,
            _ => Stall.No,
        });
        var first = new Node(seed, stalling, Options(before), workload.Workflows);
        var random = new Random(seed);
        for (int i = 0; i < 40; i++)
        {
            var (wf, args) = workload.Next(random);
            first.Submit(wf, args);
        }
        first.Quiesce();
        var log = StoreView.Log(memory);
        Assert.NotEmpty(log);
        if (after < before) Assert.Contains(log.SelectMany(b => b.Requests), r => r.Worker >= after); // the modulo is exercised

        var restarted = new Node(seed + 100, memory, Options(after), workload.Workflows);
        restarted.Start();
        restarted.Quiesce();
        Assert.Equal(log.Count, restarted.Cluster.Counters.BatchesReexecuted);
        Assert.Empty(StoreView.Log(memory));

        var reference = new SerialReference(workload.InitialState());
        var definitions = workload.Workflows.ToDictionary(w => w.Name);
        var ordered = Enumerable.Range(0, first.Count).Where(i => first.Answers(i).Count > 0)
            .Select(i => (Ts: first.Result(i).Timestamp, first.Request(i).Workflow, first.Request(i).Args))
            .Concat(log.SelectMany(b => b.Requests).Select(r => (r.Ts, r.Workflow, r.Args)))
            .OrderBy(r => r.Ts);
        foreach (var (ts, wf, args) in ordered) reference.Execute(definitions[wf], args, ts, DateTimeOffset.UnixEpoch);
        for (int a = 0; a < workload.Accounts; a++)
        {
            var key = new StateKey(BankingWorkload.Table, workload.AccountKey(a));
            Assert.True(Value.ToLong(reference.Get(key)) == StoreView.CommittedLong(memory, key.Table, key.Key),
                $"seed {seed}, {before}->{after} workers: {key.Key} holds {StoreView.CommittedLong(memory, key.Table, key.Key)}, the serial run gives {Value.ToLong(reference.Get(key))}");
        }
        Assert.Equal(0, restarted.Cluster.Outstanding);
    }
}

public class SharedStoreRestartTests
{
    private static ClusterOptions Options => new()
    {
        Workers = 3, MaxBatchSize = 4, RemoteOpLatency = TimeSpan.FromMicroseconds(7), LinkLatency = TimeSpan.FromMicroseconds(7),
        RecoveryBackoff = TimeSpan.FromMilliseconds(1),
    };

    private static readonly string[] Keys = ["k0", "k1", "k2", "k3", "k4"];

    /// <summary>
    /// A rolling restart gone wrong: the old node is still serving when a new one starts on the same store
    /// (two app instances on one PostgreSQL schema or Redis keyspace). The new node's recovery discards
    /// the old one's uncommitted versions and re-executes its logged batches; the old one goes on
    /// committing. Every request the old node acknowledged as Committed must be in the state exactly once.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_second_node_started_on_a_store_in_use_keeps_every_acknowledged_request_exactly_once(int seed)
    {
        var lists = new Lists();
        var memory = new MemoryStateStore();
        var old = new Node(seed, memory, Options, lists.Workflows);
        var random = new Random(seed);
        for (int id = 1; id <= 40; id++) old.Submit(Lists.Append, Lists.AppendArgs(Keys[random.Next(Keys.Length)], id));
        old.RunUntil(() => Enumerable.Range(0, old.Count).Count(i => old.Answers(i).Count > 0) >= 8 && StoreView.Log(memory).Count >= 2,
            "committed two batches with more logged");

        var fresh = new Node(seed + 100, memory, Options, lists.Workflows);
        fresh.Start(); // its claim fences the old node's later commit records out
        for (int id = 101; id <= 108; id++) fresh.Submit(Lists.Append, Lists.AppendArgs(Keys[random.Next(Keys.Length)], id));
        for (int round = 0; round < 50; round++)
        {
            for (int s = 0; s < 200 && old.Scheduler.Step(); s++) { }
            for (int s = 0; s < 200 && fresh.Scheduler.Step(); s++) { }
        }
        old.Quiesce();
        fresh.Quiesce();

        var state = Keys.SelectMany(k => Lists.Decode(StoreView.Committed(memory, Lists.Table, k))).ToList();
        var problems = new List<string>();
        foreach (var node in new[] { old, fresh })
            for (int i = 0; i < node.Count; i++)
            {
                if (node.Answers(i).Count == 0 || !node.Answers(i)[0].IsCommitted) continue;
                long id = node.Request(i).Args.GetLong("id");
                int n = state.Count(x => x == id);
                if (n != 1) problems.Add($"request {id} was acknowledged Committed but is in the state {n} times");
            }
        Assert.True(problems.Count == 0, $"seed {seed}: {problems.Count} problems: {string.Join("; ", problems.Take(8))}");
    }
}

public class HungStoreCallTests
{
    /// <summary>
    /// One store call never completes (a hung connection) while another fails: the rollback must wait for the
    /// hung call before it discards anything, but only up to ClusterOptions.StoreCallDeadline; then the cluster
    /// stops and every caller is answered, instead of callers and new requests waiting without bound.
    /// </summary>
    [Fact]
    public void A_hung_store_call_during_a_rollback_still_answers_every_caller()
    {
        var lists = new Lists();
        var memory = new MemoryStateStore();
        var stalling = new StallingStore(memory, (op, batch) => op == "read" && batch == 0 && memory.LastCommittedAsync().Result >= 1 ? Stall.BeforeEffect : Stall.No);
        int writes = 0;
        var faulty = new FaultyStore(stalling, op => op == "write" && memory.LastCommittedAsync().Result >= 1 && ++writes == 1 ? new IOException("connection reset") : null);
        var node = new Node(5, faulty, new ClusterOptions
        {
            Workers = 2, MaxBatchSize = 4, RemoteOpLatency = TimeSpan.FromMicroseconds(7), LinkLatency = TimeSpan.FromMicroseconds(7),
            RecoveryBackoff = TimeSpan.FromMilliseconds(1),
        }, lists.Workflows);
        for (int id = 1; id <= 4; id++) node.Submit(Lists.Append, Lists.AppendArgs("k" + id % 2, id)); // batch 1: loads k0, k1
        node.RunUntil(() => node.AllAnswered, "answered batch 1");
        // Batch 2: a new key (a load that hangs) and the cached ones (a version write that fails).
        for (int id = 5; id <= 8; id++) node.Submit(Lists.Append, Lists.AppendArgs(id == 5 ? "fresh" : "k" + id % 2, id));
        node.Quiesce();
        int late = node.Submit(Lists.Append, Lists.AppendArgs("k0", 9));
        node.Quiesce();
        Assert.Equal(1, writes);
        var unanswered = Enumerable.Range(0, node.Count).Where(i => node.Answers(i).Count == 0).ToList();
        Assert.True(unanswered.Count == 0,
            $"{unanswered.Count} callers never answered (virtual time {node.Scheduler.VirtualTime.Nanoseconds / 1e9:F1} s, rollbacks {node.Cluster.Counters.Rollbacks}, stop reason '{node.Cluster.StopReason}', outstanding {node.Cluster.Outstanding})");
    }
}

public class BatchTimeAcrossRestartTests
{
    /// <summary>Records ctx.BatchTime under a key and outputs how far it moved since the last stamp (negative: time went back).</summary>
    private static readonly WorkflowDefinition Stamp = new WorkflowBuilder("stamp")
        .Function("stamp", f => f
            .Updates("clock", _ => "last")
            .Body(ctx =>
            {
                long previous = ctx.Read("clock", "last") is { } p ? Value.ToLong(p) : long.MinValue;
                long now = ctx.BatchTime.UtcTicks;
                ctx.WriteLong("clock", "last", now);
                return Value.FromLong(previous == long.MinValue ? 0 : now - previous);
            }))
        .Build();

    /// <summary>
    /// A node commits a batch at local time T+1h; it is restarted on a host (or clock) at T. The next batch's
    /// ctx.BatchTime must not be an hour before the last committed batch's: "now" never runs backwards for workflows.
    /// </summary>
    [Fact]
    public void Batch_time_after_a_restart_is_not_before_the_last_committed_batch_time()
    {
        var memory = new MemoryStateStore();
        var options = new ClusterOptions { Workers = 2, MaxBatchSize = 1, RemoteOpLatency = TimeSpan.FromMicroseconds(7), LinkLatency = TimeSpan.FromMicroseconds(7) };
        var first = new Node(1, memory, options, [Stamp]);
        first.Scheduler.After(TimeSpan.FromHours(1), () => { });
        first.Quiesce(); // virtual time is now T+1h
        int a = first.Submit("stamp", Args.Create().Build());
        first.RunUntil(() => first.AllAnswered, "stamped");
        Assert.True(first.Result(a).IsCommitted);

        var second = new Node(2, memory, options, [Stamp]); // its clock reads T
        second.Start();
        int b = second.Submit("stamp", Args.Create().Build());
        second.RunUntil(() => second.AllAnswered, "stamped");
        long moved = Value.ToLong(second.Result(b).Outputs[0]);
        Assert.True(moved >= 0, $"ctx.BatchTime went back by {TimeSpan.FromTicks(-moved)} across the restart");
    }
}

public class ChangedWorkflowRestartTests
{
    private static WorkflowDefinition AppendTo(string suffix) => new WorkflowBuilder(Lists.Append)
        .Function("append", f => f
            .Updates(Lists.Table, a => a.GetString("key") + suffix)
            .Body(ctx =>
            {
                string key = ctx.Args.GetString("key") + suffix;
                var list = Lists.Decode(ctx.Read(Lists.Table, key));
                list.Add(ctx.Args.GetLong("id"));
                ctx.Write(Lists.Table, key, Lists.Encode(list));
                return Value.FromLong(list.Count);
            }))
        .Build();

    /// <summary>
    /// A deploy changes a workflow's key selector while batches of the old build are in the log (the old
    /// process was killed). The restart re-executes the logged requests with the new selector, against the
    /// logged lease table of the old keys. Expected: a clear refusal naming the batch, or a correct run; not a hang or a fault.
    /// </summary>
    [Fact]
    public void A_restart_whose_workflow_now_resolves_other_keys_refuses_or_runs_correctly()
    {
        var memory = new MemoryStateStore();
        var options = new ClusterOptions { Workers = 3, MaxBatchSize = 4, RemoteOpLatency = TimeSpan.FromMicroseconds(7), LinkLatency = TimeSpan.FromMicroseconds(7) };
        var stalling = new StallingStore(memory, (op, batch) => op == "commit" && batch >= 2 ? Stall.BeforeEffect : Stall.No);
        var first = new Node(3, stalling, options, [AppendTo("")]);
        for (int id = 1; id <= 12; id++) first.Submit(Lists.Append, Lists.AppendArgs("k" + id % 5, id));
        first.Quiesce();
        Assert.NotEmpty(StoreView.Log(memory));

        var second = new Node(4, memory, options, [AppendTo("-v2")]);
        Exception? refused = null;
        try { second.Start(); second.Quiesce(); }
        catch (Exception e) { refused = e; }
        Assert.True(refused is Leasehold.Runtime.Serializable.RecoveryException || refused is null,
            $"the restart ended with {refused?.GetType().Name}: {refused?.Message}");
        if (refused is null)
        {
            int fresh = second.Submit(Lists.Append, Lists.AppendArgs("k0", 99));
            second.Quiesce();
            Assert.True(second.Answers(fresh).Count == 1 && second.Result(fresh).IsCommitted,
                $"a new request got {second.Answers(fresh).Count} answers; last committed {StoreView.LastCommitted(memory)}, driver batches in flight {second.Cluster.DriverBatchesInFlight}, worker batches in flight {second.Cluster.WorkerBatchesInFlight}, stop: '{second.Cluster.StopReason}', fault: {second.Scheduler.Fault?.Message}");
        }
    }
}
