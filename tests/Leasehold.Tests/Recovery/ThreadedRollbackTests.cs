using System.Collections.Concurrent;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Recovery;

/// <summary>A store whose calls complete later on the thread pool, and sometimes fail (before or after taking effect).</summary>
internal sealed class AsyncFaultyStore(IStateStore inner, double failure, int seed) : IStateStore
{
    private readonly Random _random = new(seed);
    private readonly object _gate = new();
    public int Injected;

    private (int DelayUs, int Fault) Draw()
    {
        lock (_gate)
        {
            int delay = _random.Next(300);
            double p = _random.NextDouble();
            int fault = p < failure ? 1 : p < 2 * failure ? 2 : 0;
            if (fault != 0) Interlocked.Increment(ref Injected);
            return (delay, fault);
        }
    }

    private async ValueTask Run(string op, Func<ValueTask> call)
    {
        var (delay, fault) = Draw();
        await Task.Yield();
        if (delay > 150) await Task.Delay(TimeSpan.FromMicroseconds(delay));
        if (fault == 1) throw new IOException($"injected failure of {op}");
        await call();
        if (fault == 2) throw new IOException($"lost reply of {op}");
    }

    private async ValueTask<T> Run<T>(string op, Func<ValueTask<T>> call)
    {
        var (delay, fault) = Draw();
        await Task.Yield();
        if (delay > 150) await Task.Delay(TimeSpan.FromMicroseconds(delay));
        if (fault != 0) throw new IOException($"injected failure of {op}");
        return await call();
    }

    public string Name => "async-faulty";
    public ValueTask LoadAsync(IEnumerable<KeyValuePair<StateKey, byte[]>> objects, CancellationToken c = default) => inner.LoadAsync(objects, c);
    public ValueTask WriteVersionsAsync(long batch, IReadOnlyList<KeyValuePair<StateKey, byte[]?>> writes, CancellationToken c = default) => Run("write", () => inner.WriteVersionsAsync(batch, writes, c));
    public ValueTask CommitAsync(long batch, CancellationToken c = default) => CommitAsync(batch, 0, c);
    public ValueTask CommitAsync(long batch, long epoch, CancellationToken c = default) => Run("commit", () => inner.CommitAsync(batch, epoch, c));
    public ValueTask<long> ClaimAsync(CancellationToken c = default) => inner.ClaimAsync(c);
    public ValueTask<byte[]?> ReadCommittedAsync(StateKey key, CancellationToken c = default) => Run("read", () => inner.ReadCommittedAsync(key, c));
    public ValueTask<long> LastCommittedAsync(CancellationToken c = default) => Run("last", () => inner.LastCommittedAsync(c));
    public IAsyncEnumerable<KeyValuePair<string, byte[]>> ScanCommittedAsync(string table, CancellationToken c = default) => inner.ScanCommittedAsync(table, c);
    public ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, CancellationToken c = default) => AppendBatchInputAsync(batch, input, 0, c);
    public ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, long epoch, CancellationToken c = default) => Run("log", () => inner.AppendBatchInputAsync(batch, input, epoch, c));
    public IAsyncEnumerable<KeyValuePair<long, byte[]>> ReadBatchInputsAsync(long after, CancellationToken c = default) => inner.ReadBatchInputsAsync(after, c);
    // One store call, one chance to fail, as a real engine's single durable write.
    public ValueTask WriteLogAsync(IReadOnlyList<KeyValuePair<long, ReadOnlyMemory<byte>>> inputs, long commitFrom, long commitThrough, long epoch, CancellationToken c = default) =>
        Run("log", () => inner.WriteLogAsync(inputs, commitFrom, commitThrough, epoch, c));
    public ValueTask<long> DiscardUncommittedAsync(CancellationToken c = default) => Run("discard", () => inner.DiscardUncommittedAsync(c));
    public ValueTask<bool> CompareAndSetAsync(string name, byte[]? expected, byte[] value, CancellationToken c = default) => inner.CompareAndSetAsync(name, expected, value, c);
    public ValueTask<byte[]?> ReadRecordAsync(string name, CancellationToken c = default) => inner.ReadRecordAsync(name, c);
    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>Rollbacks on real threads, with store replies arriving late and out of order, and keyed duplicates.</summary>
public class ThreadedRollbackTests
{
    private static readonly WorkflowDefinition Append = new WorkflowBuilder("append")
        .Function("append", f => f
            .Updates(Lists.Table, a => a.GetString("key"))
            .Body(ctx =>
            {
                var list = Lists.Decode(ctx.Read(Lists.Table, ctx.Args.GetString("key")));
                list.Add(ctx.Args.GetLong("id"));
                ctx.Write(Lists.Table, ctx.Args.GetString("key"), Lists.Encode(list));
                return Value.FromLong(list.Count);
            }))
        .Build();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Late_and_failing_store_replies_on_real_threads_apply_each_request_once_and_answer_each_caller_once(int seed)
    {
        var memory = new MemoryStateStore();
        var store = new AsyncFaultyStore(memory, 0.01, seed);
        using var pool = new ThreadPoolScheduler();
        var cluster = new SerializableCluster(new ClusterOptions
        {
            Workers = 3, MaxBatchSize = 8, MaxBatchDelay = TimeSpan.FromMilliseconds(1), RecoveryAttempts = 1000,
            RecoveryBackoff = TimeSpan.FromMilliseconds(1), MaxRecoveryBackoff = TimeSpan.FromMilliseconds(5),
        }, pool, store);
        cluster.Register(Append);
        await cluster.StartAsync();
        string[] keys = ["k0", "k1", "k2", "k3", "k4", "k5"];
        const int requests = 1500;
        var answers = new ConcurrentDictionary<(long Id, int Copy), ConcurrentBag<WorkflowResult>>();
        var all = new List<Task>();
        var random = new Random(seed);
        for (long id = 1; id <= requests; id++)
        {
            var args = Args.Create().Set("key", keys[random.Next(keys.Length)]).Set("id", id).Build();
            int copies = 1 + random.Next(3);
            for (int c = 0; c < copies; c++)
            {
                var bag = answers.GetOrAdd((id, c), _ => []);
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                cluster.Submit("append", args, r => { bag.Add(r); done.TrySetResult(); }, $"id-{id}");
                all.Add(done.Task);
            }
            if (id % 50 == 0) await Task.Delay(1);
        }
        await Task.WhenAll(all).WaitAsync(TimeSpan.FromSeconds(120));
        await Task.Delay(200); // a second answer would arrive late
        Console.WriteLine($"threaded rollback seed {seed}: injected {store.Injected}, rollbacks {cluster.Counters.Rollbacks}, reexecuted {cluster.Counters.BatchesReexecuted}, rejected {answers.Values.Count(b => b.Any(r => r.Status == WorkflowStatus.Rejected))}, dedup {cluster.Counters.Deduplicated}");
        Assert.True(store.Injected > 0);
        Assert.True(cluster.StopReason is null, $"seed {seed}: the cluster stopped: {cluster.StopReason}");
        var state = new List<long>();
        foreach (var k in keys) state.AddRange(Lists.Decode(await memory.ReadCommittedAsync(new StateKey(Lists.Table, k))));
        var problems = new List<string>();
        foreach (var ((id, copy), bag) in answers)
        {
            if (bag.Count != 1) problems.Add($"request {id} copy {copy} got {bag.Count} answers");
            else if (bag.Single().Status is not (WorkflowStatus.Committed or WorkflowStatus.Rejected)) problems.Add($"request {id} copy {copy}: {bag.Single()}");
        }
        foreach (long id in answers.Keys.Where(k => answers[k].Any(r => r.IsCommitted)).Select(k => k.Id).Distinct())
            if (state.Count(x => x == id) != 1) problems.Add($"request {id} acknowledged but in the state {state.Count(x => x == id)} times");
        Assert.True(problems.Count == 0, $"seed {seed}: rollbacks {cluster.Counters.Rollbacks}: {problems.Count} problems: {string.Join("; ", problems.Take(10))}");
        Assert.Equal(0, cluster.Outstanding);
    }
}
