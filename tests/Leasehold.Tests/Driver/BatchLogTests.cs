using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Driver;
using Leasehold.Runtime.Storage;
using Leasehold.Tests.Support;
using Leasehold.Workloads.Banking;

namespace Leasehold.Tests.Driver;

/// <summary>§7: a batch's input (requests with timestamps, and its lease table) is durable before it executes.</summary>
public class BatchLogTests
{
    private static ClusterOptions Options => new()
    {
        Workers = 3, MaxBatchSize = 8, RemoteOpLatency = TimeSpan.FromMicroseconds(7), LinkLatency = TimeSpan.FromMicroseconds(7),
    };

    [Fact]
    public async Task A_logged_input_decodes_to_exactly_the_admitted_requests_and_leases()
    {
        var store = new MemoryStateStore();
        var workload = new BankingWorkload(accounts: 30, initialBalance: 1000);
        store.Load(workload.InitialState());
        var capture = new CapturingStore(store);
        var scheduler = new Leasehold.Runtime.Scheduling.DeterministicScheduler(5);
        var cluster = new Leasehold.Runtime.Hosting.SerializableCluster(Options, scheduler, capture);
        foreach (var w in workload.Workflows) cluster.Register(w);
        var random = new Random(5);
        var sent = new List<(string Workflow, Args Args, WorkflowResult? Result)>();
        for (int i = 0; i < 30; i++)
        {
            var (wf, args) = workload.Next(random);
            int index = sent.Count;
            sent.Add((wf, args, null));
            cluster.Submit(wf, args, r => sent[index] = (wf, args, r));
        }
        scheduler.RunUntil(() => sent.All(s => s.Result is not null), 5_000_000);
        Assert.All(sent, s => Assert.True(s.Result!.IsCommitted, s.Result.ToString()));
        var inputs = capture.Inputs.Select(BatchInputCodec.Decode).ToList();
        Assert.Equal(Enumerable.Range(1, inputs.Count).Select(i => (long)i), inputs.Select(i => i.Batch));
        var logged = inputs.SelectMany(i => i.Requests).OrderBy(r => r.Ts).ToList();
        Assert.Equal(sent.Count, logged.Count);
        foreach (var (s, l) in sent.OrderBy(s => s.Result!.Timestamp).Zip(logged))
        {
            Assert.Equal(s.Result!.Timestamp, l.Ts);
            Assert.Equal(s.Workflow, l.Workflow);
            Assert.Equal(s.Args.ToString(), l.Args.ToString());
            Assert.InRange(l.Worker, 0, Options.Workers - 1);
        }
        Assert.All(inputs, i => Assert.NotEmpty(i.Leases));
        Assert.All(inputs.SelectMany(i => i.Leases), l => Assert.Equal(BankingWorkload.Table, l.Key.Table));
        Assert.Empty(await Log(store));
    }

    [Fact]
    public async Task A_batch_whose_input_cannot_be_logged_never_runs_and_its_callers_are_told()
    {
        var store = new MemoryStateStore();
        var workload = new BankingWorkload(accounts: 30, initialBalance: 1000);
        store.Load(workload.InitialState());
        long writes = 0;
        var failing = new FaultyStore(store, op => op switch
        {
            "log" => new IOException("disk full"),
            "write" => Count(ref writes),
            _ => null,
        });
        var scheduler = new Leasehold.Runtime.Scheduling.DeterministicScheduler(2);
        var cluster = new Leasehold.Runtime.Hosting.SerializableCluster(Options, scheduler, failing);
        foreach (var w in workload.Workflows) cluster.Register(w);
        var results = new List<WorkflowResult>();
        var random = new Random(2);
        for (int i = 0; i < 10; i++)
        {
            var (wf, args) = workload.Next(random);
            cluster.Submit(wf, args, results.Add);
        }
        scheduler.RunUntil(() => results.Count == 10, 1_000_000);
        Assert.Equal(10, results.Count);
        // After the rollbacks give up: the batch whose input was being written is Unknown (a failed write may
        // still have landed), later ones Failed, and requests admitted after the cluster stopped Rejected.
        Assert.All(results, r => Assert.True(r.Status is WorkflowStatus.Unknown or WorkflowStatus.Failed or WorkflowStatus.Rejected, r.ToString()));
        Assert.All(results, r => Assert.Contains("could not be logged", r.Reason));
        Assert.Equal(0, writes); // nothing executed, so nothing was written back
        Assert.Equal(0, await store.LastCommittedAsync());
    }

    [Fact]
    public void A_corrupted_or_truncated_record_is_refused_naming_why()
    {
        var store = new MemoryStateStore();
        var capture = new CapturingStore(store);
        var scheduler = new Leasehold.Runtime.Scheduling.DeterministicScheduler(1);
        var cluster = new Leasehold.Runtime.Hosting.SerializableCluster(Options, scheduler, capture);
        cluster.Register(BankingWorkload.DepositWorkflow());
        bool done = false;
        cluster.Submit(BankingWorkload.Deposit, Args.Create().Set("acct", "a").Set("amount", 3).Build(), _ => done = true);
        scheduler.RunUntil(() => done, 100_000);
        var record = capture.Inputs.Single();
        Assert.Equal("a", BatchInputCodec.Decode(record).Requests.Single().Args.GetString("acct"));
        Assert.Contains("ends early", Assert.Throws<FormatException>(() => BatchInputCodec.Decode(record[..^3])).Message);
        var wrongVersion = (byte[])record.Clone();
        wrongVersion[0] = 9;
        Assert.Contains("version 9", Assert.Throws<FormatException>(() => BatchInputCodec.Decode(wrongVersion)).Message);
        Assert.Contains("after the record's end", Assert.Throws<FormatException>(() => BatchInputCodec.Decode([.. record, 0])).Message);
    }

    private static Exception? Count(ref long counter)
    {
        counter++;
        return null;
    }

    private static async Task<List<KeyValuePair<long, byte[]>>> Log(IStateStore store)
    {
        var entries = new List<KeyValuePair<long, byte[]>>();
        await foreach (var e in store.ReadBatchInputsAsync(0)) entries.Add(e);
        return entries;
    }

    /// <summary>Keeps a copy of every logged input, and checks no version of a batch is written before its input.</summary>
    private sealed class CapturingStore(IStateStore inner) : IStateStore
    {
        public List<byte[]> Inputs { get; } = [];
        private long _loggedUpTo;

        public string Name => inner.Name;
        public ValueTask LoadAsync(IEnumerable<KeyValuePair<StateKey, byte[]>> objects, CancellationToken c = default) => inner.LoadAsync(objects, c);
        public ValueTask WriteVersionsAsync(long batch, IReadOnlyList<KeyValuePair<StateKey, byte[]?>> writes, CancellationToken c = default)
        {
            if (batch > _loggedUpTo) throw new InvalidOperationException($"batch {batch} wrote versions before its input was logged");
            return inner.WriteVersionsAsync(batch, writes, c);
        }
        public ValueTask CommitAsync(long batch, CancellationToken c = default) => inner.CommitAsync(batch, c);
        public ValueTask CommitAsync(long batch, long epoch, CancellationToken c = default) => inner.CommitAsync(batch, epoch, c);
        public ValueTask<long> ClaimAsync(CancellationToken c = default) => inner.ClaimAsync(c);
        public ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, long epoch, CancellationToken c = default)
        {
            Inputs.Add(input.ToArray());
            _loggedUpTo = Math.Max(_loggedUpTo, batch);
            return inner.AppendBatchInputAsync(batch, input, epoch, c);
        }
        public ValueTask<byte[]?> ReadCommittedAsync(StateKey key, CancellationToken c = default) => inner.ReadCommittedAsync(key, c);
        public ValueTask<long> LastCommittedAsync(CancellationToken c = default) => inner.LastCommittedAsync(c);
        public IAsyncEnumerable<KeyValuePair<string, byte[]>> ScanCommittedAsync(string table, CancellationToken c = default) => inner.ScanCommittedAsync(table, c);
        public ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, CancellationToken c = default)
        {
            Inputs.Add(input.ToArray());
            _loggedUpTo = Math.Max(_loggedUpTo, batch);
            return inner.AppendBatchInputAsync(batch, input, c);
        }
        public IAsyncEnumerable<KeyValuePair<long, byte[]>> ReadBatchInputsAsync(long after, CancellationToken c = default) => inner.ReadBatchInputsAsync(after, c);
        public ValueTask<long> DiscardUncommittedAsync(CancellationToken c = default) => inner.DiscardUncommittedAsync(c);
        public ValueTask<bool> CompareAndSetAsync(string name, byte[]? expected, byte[] value, CancellationToken c = default) => inner.CompareAndSetAsync(name, expected, value, c);
        public ValueTask<byte[]?> ReadRecordAsync(string name, CancellationToken c = default) => inner.ReadRecordAsync(name, c);
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
