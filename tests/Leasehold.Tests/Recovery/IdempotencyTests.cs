using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Driver;
using Leasehold.Runtime.Storage;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Recovery;

/// <summary>
/// Idempotency keys (§7: "idempotency keys make client retries safe"): a retry with the key of a request
/// that ran returns the first result and never runs it twice — while the first is in flight, after it
/// committed, after a restart, and when the first one's batch was only logged at a crash. Bodies count
/// their executions in a side-effect counter, and the stored list shows each effect exactly once.
/// Deterministic mode throughout; every failure names the seed.
/// </summary>
public class IdempotencyTests
{
    private static ClusterOptions Options => new()
    {
        Workers = 3, MaxBatchSize = 4, RemoteOpLatency = TimeSpan.FromMicroseconds(7), LinkLatency = TimeSpan.FromMicroseconds(7),
        RecoveryBackoff = TimeSpan.FromMilliseconds(1),
    };

    private static List<long> ListOf(IStateStore store, string key) => Lists.Decode(StoreView.Committed(store, Lists.Table, key));

    private static void AssertSameResult(WorkflowResult first, WorkflowResult retry, string context)
    {
        Assert.True(first.IsCommitted, $"{context}: {first}");
        Assert.Equal(first.Status, retry.Status);
        Assert.Equal(first.Timestamp, retry.Timestamp);
        Assert.Equal(first.Outputs.Length, retry.Outputs.Length);
        for (int i = 0; i < first.Outputs.Length; i++)
            Assert.True(Value.SameBytes(first.Outputs[i], retry.Outputs[i]), $"{context}: output {i} differs");
    }

    // ---- (a) in flight --------------------------------------------------------------------------------

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Two_submissions_with_one_key_in_flight_run_the_body_once_and_both_get_its_result(int seed)
    {
        var lists = new Lists();
        var memory = new MemoryStateStore();
        var node = new Node(seed, memory, Options, lists.Workflows);
        // Other traffic around them, so the two land in a busy batch.
        for (int id = 10; id < 16; id++) node.Submit(Lists.Append, Lists.AppendArgs("k" + id % 3, id));
        int first = node.Submit(Lists.Pair, Lists.PairArgs("k0", "k1", 1), "order-1");
        int retry = node.Submit(Lists.Pair, Lists.PairArgs("k0", "k1", 1), "order-1");
        node.RunUntil(() => node.AllAnswered, "answered every request");
        node.Quiesce();

        AssertSameResult(node.Result(first), node.Result(retry), $"seed {seed}");
        Assert.Equal(2, lists.Runs[1]); // two functions, each once
        Assert.Equal(1, node.Cluster.Counters.Deduplicated);
        Assert.Single(ListOf(memory, "k0"), id => id == 1);
        Assert.Single(ListOf(memory, "k1"), id => id == 1);
        Assert.Equal(0, node.Cluster.Outstanding);
    }

    /// <summary>
    /// The same, with the result-record lookup of the first still in flight when the retry arrives (a
    /// networked store answers later): the retry waits on the lookup, then attaches to the first.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_retry_that_arrives_while_the_first_ones_record_is_being_looked_up_attaches_to_it(int seed)
    {
        var lists = new Lists();
        var memory = new MemoryStateStore();
        var gate = new TaskCompletionSource(TaskCreationOptions.None);
        var store = new StallingStore(memory) { HoldRead = key => key.Table == ResultRecord.Table ? gate.Task : null };
        var node = new Node(seed, store, Options, lists.Workflows);
        int first = node.Submit(Lists.Append, Lists.AppendArgs("k0", 1), "order-1");
        node.Quiesce(); // admitted: its lookup is waiting on the store
        Assert.Contains(store.Calls, c => c.Op == "read");
        int retry = node.Submit(Lists.Append, Lists.AppendArgs("k0", 1), "order-1");
        int other = node.Submit(Lists.Append, Lists.AppendArgs("k0", 2), "order-2"); // another key's lookup waits on the same gate
        node.Quiesce(); // the retry joined the lookup
        Assert.Empty(node.Answers(first));
        Assert.Empty(node.Answers(retry));
        Assert.Equal(2, store.HeldReads); // order-1's lookup (the retry joined it) and order-2's
        node.Release(gate, store.HeldReads);
        node.RunUntil(() => node.AllAnswered, "answered every request");
        node.Quiesce();

        AssertSameResult(node.Result(first), node.Result(retry), $"seed {seed}");
        Assert.True(node.Result(other).IsCommitted);
        Assert.Equal(1, lists.Runs[1]);
        Assert.Equal(1, node.Cluster.Counters.Deduplicated);
        Assert.Equal([1, 2], ListOf(memory, "k0").Order());
        Assert.Equal(0, node.Cluster.Outstanding);
    }

    /// <summary>
    /// Regression: when the first request of a key fails before it is stamped (its key selector throws),
    /// retries that waited on its lookup were attached to a request already answered, and never heard back.
    /// </summary>
    [Fact]
    public void Retries_waiting_on_a_lookup_are_answered_when_the_first_request_fails_before_running()
    {
        const int seed = 4;
        var lists = new Lists();
        var memory = new MemoryStateStore();
        var gate = new TaskCompletionSource();
        var store = new StallingStore(memory) { HoldRead = key => key.Table == ResultRecord.Table ? gate.Task : null };
        var node = new Node(seed, store, Options, lists.Workflows);
        var noKey = Args.Create().Set("id", 1).Build(); // append's selector needs "key"
        int first = node.Submit(Lists.Append, noKey, "bad-1");
        node.Quiesce();
        int retry = node.Submit(Lists.Append, noKey, "bad-1");
        int different = node.Submit(Lists.Append, Lists.AppendArgs("k0", 2), "bad-1"); // the key reused for a valid request
        node.Quiesce();
        Assert.Equal(1, store.HeldReads); // the retry and the reuse joined the first one's lookup
        node.Release(gate, store.HeldReads);
        node.Quiesce();

        Assert.Equal(WorkflowStatus.Failed, node.Result(first).Status);
        Assert.Contains("key selector", node.Result(first).Reason);
        Assert.Equal(WorkflowStatus.Failed, node.Result(retry).Status);
        Assert.Contains("key selector", node.Result(retry).Reason);
        // The first never ran, so nothing holds the key: the next request with it runs (as it would had it come later).
        Assert.True(node.Result(different).IsCommitted, $"seed {seed}: {node.Result(different)}");
        Assert.Equal([2], ListOf(memory, "k0"));
        Assert.Equal(0, node.Cluster.Outstanding);
    }

    // ---- (b) after commit, (c) after a restart --------------------------------------------------------

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_retry_after_the_commit_returns_the_stored_result_without_running(int seed)
    {
        var lists = new Lists();
        var memory = new MemoryStateStore();
        var node = new Node(seed, memory, Options, lists.Workflows);
        int first = node.Submit(Lists.Pair, Lists.PairArgs("k0", "k1", 1), "order-1");
        node.Submit(Lists.Append, Lists.AppendArgs("k0", 2));
        node.RunUntil(() => node.AllAnswered, "answered the first requests");
        node.Quiesce();
        long committed = StoreView.LastCommitted(memory);
        Assert.Equal(2, lists.Runs[1]);

        int retry = node.Submit(Lists.Pair, Lists.PairArgs("k0", "k1", 1), "order-1");
        node.RunUntil(() => node.AllAnswered, "answered the retry");
        node.Quiesce();

        AssertSameResult(node.Result(first), node.Result(retry), $"seed {seed}");
        Assert.Equal(2, lists.Runs[1]);
        Assert.Equal(1, node.Cluster.Counters.Deduplicated);
        Assert.Equal(committed, StoreView.LastCommitted(memory)); // nothing ran, so no batch
        Assert.Single(ListOf(memory, "k0"), id => id == 1);
        Assert.Single(ListOf(memory, "k1"), id => id == 1);
        Assert.Equal(0, node.Cluster.Outstanding);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_retry_on_a_restarted_cluster_returns_the_stored_result_without_running(int seed)
    {
        var lists = new Lists();
        var memory = new MemoryStateStore();
        var node = new Node(seed, memory, Options, lists.Workflows);
        int first = node.Submit(Lists.Append, Lists.AppendArgs("k0", 1), "order-1");
        node.RunUntil(() => node.AllAnswered, "answered the first request");
        node.Quiesce();
        long committed = StoreView.LastCommitted(memory);

        var restarted = new Node(seed + 100, memory, Options, lists.Workflows);
        int retry = restarted.Submit(Lists.Append, Lists.AppendArgs("k0", 1), "order-1"); // starts the cluster lazily
        restarted.RunUntil(() => restarted.AllAnswered, "answered the retry");
        restarted.Quiesce();

        AssertSameResult(node.Result(first), restarted.Result(retry), $"seed {seed}");
        Assert.Equal(1, lists.Runs[1]);
        Assert.Equal(1, restarted.Cluster.Counters.Deduplicated);
        Assert.Equal(0, restarted.Cluster.Counters.BatchesReexecuted);
        Assert.Equal(committed, StoreView.LastCommitted(memory));
        Assert.Equal([1], ListOf(memory, "k0"));
    }

    // ---- (d) a key reused for another request ---------------------------------------------------------

    public enum When { InFlight, AfterCommit, AfterRestart }

    [Theory]
    [InlineData(When.InFlight)]
    [InlineData(When.AfterCommit)]
    [InlineData(When.AfterRestart)]
    public void A_key_reused_with_other_args_or_another_workflow_fails_naming_the_mismatch(When when)
    {
        const int seed = 6;
        var lists = new Lists();
        var memory = new MemoryStateStore();
        var node = new Node(seed, memory, Options, lists.Workflows);
        int first = node.Submit(Lists.Append, Lists.AppendArgs("k0", 1), "order-1");
        if (when != When.InFlight)
        {
            node.RunUntil(() => node.AllAnswered, "answered the first request");
            node.Quiesce();
        }
        var retrying = when == When.AfterRestart ? new Node(seed + 100, memory, Options, lists.Workflows) : node;
        int otherArgs = retrying.Submit(Lists.Append, Lists.AppendArgs("k0", 2), "order-1");
        int otherWorkflow = retrying.Submit(Lists.Pair, Lists.PairArgs("k0", "k1", 1), "order-1");
        retrying.RunUntil(() => retrying.AllAnswered, "answered the reuses");
        retrying.Quiesce();
        node.RunUntil(() => node.AllAnswered, "answered the first request");

        Assert.True(node.Result(first).IsCommitted);
        var args = retrying.Result(otherArgs);
        Assert.Equal(WorkflowStatus.Failed, args.Status);
        Assert.Contains("idempotency key 'order-1'", args.Reason);
        Assert.Contains("id=1", args.Reason); // the first request's parameters
        Assert.Contains("id=2", args.Reason); // and the reuse's
        var workflow = retrying.Result(otherWorkflow);
        Assert.Equal(WorkflowStatus.Failed, workflow.Status);
        Assert.Contains("append(", workflow.Reason);
        Assert.Contains("pair(", workflow.Reason);
        Assert.False(lists.Runs.ContainsKey(2));
        Assert.Equal(1, lists.Runs[1]); // the pair reuse did not run either
        Assert.Equal([1], ListOf(memory, "k0"));
        Assert.Null(StoreView.Committed(memory, Lists.Table, "k1"));
        Assert.Equal(0, retrying.Cluster.Counters.Deduplicated); // refused, not answered from the first
        Assert.Equal(0, retrying.Cluster.Outstanding);
    }

    // ---- (e) the first request's batch was logged, not committed, at a crash ---------------------------

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public void A_retry_of_a_request_logged_at_a_crash_gets_the_re_executed_result_and_one_effect(int seed, bool retryBeforeRecovery)
    {
        var lists = new Lists();
        var memory = new MemoryStateStore();
        // Batch 1 commits; the commit record of batch 2 never completes: batch 2 and later stay logged.
        var stalling = new StallingStore(memory, (op, batch) => op == "commit" && batch >= 2 ? Stall.BeforeEffect : Stall.No);
        var crashing = new Node(seed, stalling, Options, lists.Workflows);
        for (int id = 1; id <= 4; id++) crashing.Submit(Lists.Append, Lists.AppendArgs("k" + id % 2, id));
        crashing.RunUntil(() => crashing.AllAnswered, "committed batch 1");
        for (int id = 5; id <= 8; id++) crashing.Submit(Lists.Append, Lists.AppendArgs("k" + id % 2, id), id == 6 ? "order-6" : null);
        crashing.Quiesce();
        var logged = StoreView.Log(memory);
        var keyed = Assert.Single(logged.SelectMany(b => b.Requests), r => r.IdempotencyKey == "order-6");
        Assert.Equal(1, StoreView.LastCommitted(memory));
        Assert.Equal(1, lists.Runs[6]);

        var restarted = new Node(seed + 100, memory, Options, lists.Workflows);
        restarted.Start();
        int retry;
        if (retryBeforeRecovery)
        {
            retry = restarted.Submit(Lists.Append, Lists.AppendArgs("k0", 6), "order-6"); // while the logged batch re-executes
            restarted.Quiesce();
        }
        else
        {
            restarted.Quiesce();
            Assert.Empty(StoreView.Log(memory));
            retry = restarted.Submit(Lists.Append, Lists.AppendArgs("k0", 6), "order-6"); // from the stored record
            restarted.Quiesce();
        }

        string context = $"seed {seed}, retry {(retryBeforeRecovery ? "during" : "after")} recovery";
        var result = restarted.Result(retry);
        Assert.True(result.IsCommitted, $"{context}: {result}");
        Assert.Equal(keyed.Ts, result.Timestamp); // the logged request's timestamp: it is that request's result
        var k0 = ListOf(memory, "k0");
        Assert.Single(k0, id => id == 6);
        Assert.Equal(k0.IndexOf(6) + 1, Value.ToLong(result.Outputs[0]));
        Assert.Equal(2, lists.Runs[6]); // once before the crash, once re-executed; never for the retry
        Assert.Equal(1, restarted.Cluster.Counters.Deduplicated);
        Assert.Equal(logged.Count, restarted.Cluster.Counters.BatchesReexecuted);
        Assert.Equal([1, 3, 5, 7], ListOf(memory, "k1"));
        Assert.Equal(0, restarted.Cluster.Outstanding);
    }

    /// <summary>A retry attached to a request whose batch is rolled back (its commit failed) gets the re-executed result, once.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_retry_attached_to_a_rolled_back_request_gets_the_re_executed_result(int seed)
    {
        var lists = new Lists();
        var memory = new MemoryStateStore();
        int faults = 0;
        var faulty = new FaultyStore(memory, op => op == "commit" && faults++ == 0 ? new IOException("connection reset") : null);
        var node = new Node(seed, faulty, Options, lists.Workflows);
        int first = node.Submit(Lists.Append, Lists.AppendArgs("k0", 1), "order-1");
        int retry = node.Submit(Lists.Append, Lists.AppendArgs("k0", 1), "order-1");
        node.Submit(Lists.Append, Lists.AppendArgs("k0", 2));
        node.RunUntil(() => node.AllAnswered, "answered every request");
        node.Quiesce();

        Assert.Equal(1, node.Cluster.Counters.Rollbacks);
        AssertSameResult(node.Result(first), node.Result(retry), $"seed {seed}");
        Assert.Equal(2, lists.Runs[1]); // executed, rolled back, re-executed
        Assert.Equal([1, 2], ListOf(memory, "k0"));
        var late = node.Submit(Lists.Append, Lists.AppendArgs("k0", 1), "order-1");
        node.Quiesce();
        AssertSameResult(node.Result(first), node.Result(late), $"seed {seed}");
        Assert.Equal(2, lists.Runs[1]);
    }

    // ---- (f) validation -------------------------------------------------------------------------------

    [Fact]
    public async Task An_empty_or_overlong_key_is_rejected_before_anything_runs()
    {
        var lists = new Lists();
        var memory = new MemoryStateStore();
        var node = new Node(1, memory, Options, lists.Workflows);
        int empty = node.Submit(Lists.Append, Lists.AppendArgs("k0", 1), "");
        int tooLong = node.Submit(Lists.Append, Lists.AppendArgs("k0", 2), new string('x', 513));
        Assert.Equal(WorkflowStatus.Rejected, node.Result(empty).Status); // at once, not after a batch
        Assert.Contains("not 0", node.Result(empty).Reason);
        Assert.Equal(WorkflowStatus.Rejected, node.Result(tooLong).Status);
        Assert.Contains("not 513", node.Result(tooLong).Reason);
        var invoked = await node.Cluster.InvokeAsync(Lists.Append, Lists.AppendArgs("k0", 3), "");
        Assert.Equal(WorkflowStatus.Rejected, invoked.Status);
        int longest = node.Submit(Lists.Append, Lists.AppendArgs("k0", 4), new string('x', 512));
        node.Quiesce();
        Assert.True(node.Result(longest).IsCommitted);
        Assert.Equal([4], ListOf(memory, "k0"));
        Assert.Equal(0, node.Cluster.Outstanding);
    }
}
