using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Driver;
using Leasehold.Runtime.Storage;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Recovery;

/// <summary>
/// An idempotency key whose result record the store cannot read (a corrupted record, a bad sector under it)
/// while everything else works. The read changes nothing, so nothing needs rolling back: after the recovery
/// attempts the request is answered Failed — it never ran, so a later retry with the key is safe — and the
/// cluster goes on serving. Deterministic mode; failures name the seed.
/// </summary>
public class UnreadableResultRecordTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_result_record_that_cannot_be_read_fails_its_request_and_rolls_nothing_back(int seed)
    {
        var lists = new Lists();
        var memory = new MemoryStateStore();
        var store = new UnreadableResultRecords(memory);
        var options = new ClusterOptions
        {
            Workers = 2, MaxBatchSize = 4, RemoteOpLatency = TimeSpan.FromMicroseconds(7), LinkLatency = TimeSpan.FromMicroseconds(7),
            RecoveryAttempts = 2, RecoveryBackoff = TimeSpan.FromMilliseconds(1), MaxRecoveryBackoff = TimeSpan.FromMilliseconds(4),
        };
        var node = new Node(seed, store, options, lists.Workflows);
        int keyed = node.Submit(Lists.Append, Lists.AppendArgs("k0", 1), "order-1");
        for (int id = 10; id < 20; id++) node.Submit(Lists.Append, Lists.AppendArgs("k" + id % 3, id));
        node.RunUntil(() => node.AllAnswered, "answered every request");

        Assert.True(node.Cluster.StopReason is null, $"seed {seed}: the cluster stopped: {node.Cluster.StopReason}");
        Assert.True(node.Cluster.Counters.Rollbacks == 0, $"seed {seed}: {node.Cluster.Counters.Rollbacks} rollbacks for a read that changed nothing");
        var result = node.Result(keyed);
        Assert.True(result.Status == WorkflowStatus.Failed, $"seed {seed}: {result}");
        Assert.Contains("order-1", result.Reason);
        Assert.Contains("checksum mismatch", result.Reason);
        Assert.True(store.FailedReads == options.RecoveryAttempts + 1, $"seed {seed}: {store.FailedReads} reads of the record, expected {options.RecoveryAttempts + 1}");
        for (int i = 1; i < node.Count; i++) Assert.True(node.Result(i).IsCommitted, $"seed {seed}: request {i}: {node.Result(i)}");
        Assert.DoesNotContain(1L, lists.Runs.Keys); // it never ran

        // The cluster still serves, keyed requests included.
        int later = node.Submit(Lists.Append, Lists.AppendArgs("k1", 30));
        node.RunUntil(() => node.AllAnswered, "answered the later request");
        node.Quiesce();
        Assert.True(node.Result(later).IsCommitted, $"seed {seed}: {node.Result(later)}");
        Assert.Equal(0, node.Cluster.Outstanding);
    }

    /// <summary>The memory store, except that every read of an idempotency result record fails.</summary>
    private sealed class UnreadableResultRecords(IStateStore inner) : DelegatingStore(inner)
    {
        public int FailedReads { get; private set; }

        public override ValueTask<byte[]?> ReadCommittedAsync(StateKey key, CancellationToken c = default)
        {
            if (key.Table != ResultRecord.Table) return Inner.ReadCommittedAsync(key, c);
            FailedReads++;
            return ValueTask.FromException<byte[]?>(new IOException("checksum mismatch in the record's block"));
        }
    }
}
