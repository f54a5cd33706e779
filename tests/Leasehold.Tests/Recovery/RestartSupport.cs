using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Driver;
using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Recovery;

/// <summary>How a <see cref="StallingStore"/> treats one call.</summary>
public enum Stall
{
    /// <summary>Passes the call through.</summary>
    No,
    /// <summary>Never completes, and never reaches the store (the process died before the write went out).</summary>
    BeforeEffect,
    /// <summary>Takes effect in the store, but never completes (the process died before the reply came back).</summary>
    AfterEffect,
}

/// <summary>
/// Wraps a store, records every call by name, and can make calls never complete (a ValueTask of a
/// TaskCompletionSource that is never set): with the deterministic scheduler, a process stopped at that
/// point is a crash at a chosen moment. Operation names are <see cref="Support.FaultyStore"/>'s.
/// </summary>
public sealed class StallingStore(IStateStore inner, Func<string, long, Stall>? stall = null) : IStateStore
{
    private static readonly string[] Mutating = ["load", "write", "commit", "log", "discard", "cas"];

    /// <summary>Every call made, in order: the operation and its batch (0 when it has none).</summary>
    public List<(string Op, long Batch)> Calls { get; } = [];

    /// <summary>The calls that could change the store.</summary>
    public IEnumerable<string> MutatingCalls => Calls.Select(c => c.Op).Where(op => Mutating.Contains(op));

    /// <summary>What each DiscardUncommitted call returned.</summary>
    public List<long> Discarded { get; } = [];

    public string Name => $"stalling({inner.Name})";

    private ValueTask Run(string op, long batch, Func<ValueTask> call)
    {
        Calls.Add((op, batch));
        switch (stall?.Invoke(op, batch) ?? Stall.No)
        {
            case Stall.BeforeEffect:
                return new ValueTask(new TaskCompletionSource().Task);
            case Stall.AfterEffect:
                call().AsTask().GetAwaiter().GetResult();
                return new ValueTask(new TaskCompletionSource().Task);
            default:
                return call();
        }
    }

    private ValueTask<T> Run<T>(string op, Func<ValueTask<T>> call)
    {
        Calls.Add((op, 0));
        return (stall?.Invoke(op, 0) ?? Stall.No) == Stall.No ? call() : new ValueTask<T>(new TaskCompletionSource<T>().Task);
    }

    public ValueTask LoadAsync(IEnumerable<KeyValuePair<StateKey, byte[]>> objects, CancellationToken c = default) => Run("load", 0, () => inner.LoadAsync(objects, c));
    public ValueTask WriteVersionsAsync(long batch, IReadOnlyList<KeyValuePair<StateKey, byte[]?>> writes, CancellationToken c = default) =>
        Run("write", batch, () => inner.WriteVersionsAsync(batch, writes, c));
    public ValueTask CommitAsync(long batch, CancellationToken c = default) => CommitAsync(batch, 0, c);
    public ValueTask CommitAsync(long batch, long epoch, CancellationToken c = default) => Run("commit", batch, () => inner.CommitAsync(batch, epoch, c));
    public ValueTask<long> ClaimAsync(CancellationToken c = default) => Run("claim", () => inner.ClaimAsync(c));
    /// <summary>
    /// A read this returns a task for waits for it, then reads the store: the engine sees a read that
    /// completes later, as on a networked store (see <see cref="Node.Release"/>).
    /// </summary>
    public Func<StateKey, Task?>? HoldRead { get; init; }

    /// <summary>Reads held so far: each completes on the thread pool, and the engine posts one continuation for it.</summary>
    public int HeldReads { get; private set; }

    public ValueTask<byte[]?> ReadCommittedAsync(StateKey key, CancellationToken c = default)
    {
        if (HoldRead?.Invoke(key) is { } gate)
        {
            Calls.Add(("read", 0));
            HeldReads++;
            return new ValueTask<byte[]?>(gate.ContinueWith(_ => inner.ReadCommittedAsync(key, c).AsTask().GetAwaiter().GetResult(),
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default));
        }
        return Run("read", () => inner.ReadCommittedAsync(key, c));
    }
    public ValueTask<long> LastCommittedAsync(CancellationToken c = default) => Run("last", () => inner.LastCommittedAsync(c));
    public IAsyncEnumerable<KeyValuePair<string, byte[]>> ScanCommittedAsync(string table, CancellationToken c = default)
    {
        Calls.Add(("scan", 0));
        return inner.ScanCommittedAsync(table, c);
    }
    public ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, CancellationToken c = default) => AppendBatchInputAsync(batch, input, 0, c);
    public ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, long epoch, CancellationToken c = default) =>
        Run("log", batch, () => inner.AppendBatchInputAsync(batch, input, epoch, c));
    public IAsyncEnumerable<KeyValuePair<long, byte[]>> ReadBatchInputsAsync(long after, CancellationToken c = default)
    {
        Calls.Add(("read-log", after));
        return inner.ReadBatchInputsAsync(after, c);
    }
    public async ValueTask<long> DiscardUncommittedAsync(CancellationToken c = default)
    {
        long n = await Run("discard", () => inner.DiscardUncommittedAsync(c));
        Discarded.Add(n);
        return n;
    }
    public ValueTask<bool> CompareAndSetAsync(string name, byte[]? expected, byte[] value, CancellationToken c = default) =>
        Run("cas", () => inner.CompareAndSetAsync(name, expected, value, c));
    public ValueTask<byte[]?> ReadRecordAsync(string name, CancellationToken c = default) => Run("record", () => inner.ReadRecordAsync(name, c));
    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>
/// One process of the deterministic mode: a fresh scheduler (one seed, one thread, virtual time) and a
/// fresh cluster on a given store. A "crash" is simply to stop stepping it and never touch it again; a
/// restart is a new node on the same store. Every failure names the seed.
/// </summary>
public sealed class Node
{
    private readonly List<(string Workflow, Args Args, string? Key, List<WorkflowResult> Answers)> _requests = [];
    private readonly ObservedScheduler _observed;

    public Node(int seed, IStateStore store, ClusterOptions options, IEnumerable<WorkflowDefinition> workflows)
    {
        Seed = seed;
        Scheduler = new DeterministicScheduler(seed);
        _observed = new ObservedScheduler(Scheduler);
        Cluster = new SerializableCluster(options, _observed, store);
        foreach (var w in workflows) Cluster.Register(w);
    }

    public int Seed { get; }
    public DeterministicScheduler Scheduler { get; }
    public SerializableCluster Cluster { get; }

    /// <summary>
    /// Completes the <paramref name="calls"/> store calls held by <paramref name="gate"/> and waits until
    /// the engine has posted the continuation of each (.NET runs them on the thread pool) before the next
    /// step: the scheduler is never touched from two threads at once, the order of events stays the
    /// test's, and the run stays deterministic.
    /// </summary>
    public void Release(TaskCompletionSource gate, int calls)
    {
        long before = _observed.Posts;
        gate.SetResult();
        // A liveness bound, generous for a loaded machine: a continuation is normally posted within microseconds.
        if (!SpinWait.SpinUntil(() => _observed.Posts >= before + calls, TimeSpan.FromMinutes(2)))
            throw new Xunit.Sdk.XunitException($"seed {Seed}: {calls - (_observed.Posts - before)} of {calls} released store calls never posted their continuation");
    }

    /// <summary>Submits and returns the request's index; every answer it gets is kept (a request must get exactly one).</summary>
    public int Submit(string workflow, Args args, string? idempotencyKey = null)
    {
        int index = _requests.Count;
        var answers = new List<WorkflowResult>();
        _requests.Add((workflow, args, idempotencyKey, answers));
        Cluster.Submit(workflow, args, answers.Add, idempotencyKey);
        return index;
    }

    public int Count => _requests.Count;
    public (string Workflow, Args Args, string? Key) Request(int index) => (_requests[index].Workflow, _requests[index].Args, _requests[index].Key);
    public IReadOnlyList<WorkflowResult> Answers(int index) => _requests[index].Answers;

    /// <summary>The one answer of a request; fails, naming the seed, when it has none or more than one.</summary>
    public WorkflowResult Result(int index)
    {
        var answers = _requests[index].Answers;
        if (answers.Count != 1) throw new Xunit.Sdk.XunitException($"seed {Seed}: request {index} got {answers.Count} answers: [{string.Join("; ", answers)}]");
        return answers[0];
    }

    public bool AllAnswered => _requests.All(r => r.Answers.Count > 0);

    public void RunUntil(Func<bool> done, string what, long maxSteps = 2_000_000)
    {
        Scheduler.RunUntil(() => done() || Scheduler.Fault is not null, Scheduler.Steps + maxSteps);
        CheckFault();
        if (!done()) throw new Xunit.Sdk.XunitException($"seed {Seed}: never {what} (virtual time {Scheduler.VirtualTime.Nanoseconds} ns, {Scheduler.Steps} steps)");
    }

    /// <summary>Runs until no work and no timer is left (a stalled store call leaves nothing to run).</summary>
    public void Quiesce(long maxSteps = 2_000_000)
    {
        Scheduler.RunToQuiescence(Scheduler.Steps + maxSteps);
        CheckFault();
    }

    /// <summary>StartAsync, stepped until it completes; its exception, if any, is rethrown.</summary>
    public void Start()
    {
        var started = Cluster.StartAsync();
        RunUntil(() => started.IsCompleted, "finished starting");
        started.GetAwaiter().GetResult();
    }

    public void CheckFault()
    {
        if (Scheduler.Fault is { } fault) throw new Xunit.Sdk.XunitException($"seed {Seed}: protocol fault: {fault}");
    }
}

/// <summary>The deterministic scheduler, counting posts, so a test can wait for one made from another thread (<see cref="Node.Release"/>).</summary>
internal sealed class ObservedScheduler(DeterministicScheduler inner) : IScheduler
{
    private long _posts;

    public long Posts => Interlocked.Read(ref _posts);
    public TimeProvider Time => inner.Time;
    public Exception? Fault => inner.Fault;
    public Mailbox CreateMailbox(string name) => new(this, name);

    public void Post(Mailbox mailbox, Action work)
    {
        inner.Post(mailbox, work);
        Interlocked.Increment(ref _posts);
    }

    public void After(TimeSpan delay, Action action) => inner.After(delay, action);
}

/// <summary>Store reads for assertions (the memory store completes synchronously).</summary>
public static class StoreView
{
    public static List<BatchInput> Log(IStateStore store, long after = 0)
    {
        var inputs = new List<BatchInput>();
        var e = store.ReadBatchInputsAsync(after).GetAsyncEnumerator();
        try
        {
            while (e.MoveNextAsync().AsTask().GetAwaiter().GetResult()) inputs.Add(BatchInputCodec.Decode(e.Current.Value));
        }
        finally { e.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        return inputs;
    }

    public static List<KeyValuePair<long, byte[]>> RawLog(IStateStore store)
    {
        var entries = new List<KeyValuePair<long, byte[]>>();
        var e = store.ReadBatchInputsAsync(0).GetAsyncEnumerator();
        try
        {
            while (e.MoveNextAsync().AsTask().GetAwaiter().GetResult()) entries.Add(e.Current);
        }
        finally { e.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        return entries;
    }

    public static long LastCommitted(IStateStore store) => store.LastCommittedAsync().AsTask().GetAwaiter().GetResult();

    public static byte[]? Committed(IStateStore store, string table, string key) =>
        store.ReadCommittedAsync(new StateKey(table, key)).AsTask().GetAwaiter().GetResult();

    public static void WriteVersion(IStateStore store, long batch, StateKey key, byte[]? value) =>
        store.WriteVersionsAsync(batch, [new(key, value)]).AsTask().GetAwaiter().GetResult();

    public static void AppendLog(IStateStore store, long batch, byte[] record) =>
        store.AppendBatchInputAsync(batch, record).AsTask().GetAwaiter().GetResult();

    public static long CommittedLong(IStateStore store, string table, string key) => Value.ToLong(Committed(store, table, key));
}

/// <summary>
/// Workflows whose final state says exactly which requests ran, how often, and in what order.
/// <c>append(key, id)</c> appends the 8-byte id to the list stored under key (an id twice is a request
/// applied twice; the order is the serial order). <c>pair(a, b, id)</c> appends to two keys, in two
/// functions, so it spans workers. Each body also counts its executions in a side-effect counter.
/// </summary>
public sealed class Lists
{
    public const string Table = "lists";
    public const string Append = "append";
    public const string Pair = "pair";

    /// <summary>Body executions per request id (every function counts once), across all nodes using this instance.</summary>
    public Dictionary<long, int> Runs { get; } = [];

    public IReadOnlyList<WorkflowDefinition> Workflows => [AppendWorkflow(), PairWorkflow()];

    public WorkflowDefinition AppendWorkflow() => new WorkflowBuilder(Append)
        .Function("append", f => f
            .Updates(Table, a => a.GetString("key"))
            .Body(ctx => AppendTo(ctx, ctx.Args.GetString("key"))))
        .Build();

    public WorkflowDefinition PairWorkflow() => new WorkflowBuilder(Pair)
        .Function("first", f => f
            .Updates(Table, a => a.GetString("a"))
            .Body(ctx => AppendTo(ctx, ctx.Args.GetString("a"))))
        .Function("second", f => f
            .After("first")
            .Updates(Table, a => a.GetString("b"))
            .Body(ctx => AppendTo(ctx, ctx.Args.GetString("b"))))
        .Build();

    private byte[] AppendTo(FunctionContext ctx, string key)
    {
        long id = ctx.Args.GetLong("id");
        Runs[id] = Runs.GetValueOrDefault(id) + 1;
        var list = Decode(ctx.Read(Table, key));
        list.Add(id);
        ctx.Write(Table, key, Encode(list));
        return Value.FromLong(list.Count);
    }

    public static Args AppendArgs(string key, long id) => Args.Create().Set("key", key).Set("id", id).Build();
    public static Args PairArgs(string a, string b, long id) => Args.Create().Set("a", a).Set("b", b).Set("id", id).Build();

    /// <summary>The keys a request appends to.</summary>
    public static string[] KeysOf(string workflow, Args args) =>
        workflow == Append ? [args.GetString("key")] : [args.GetString("a"), args.GetString("b")];

    public static byte[] Encode(List<long> list)
    {
        var bytes = new byte[list.Count * 8];
        for (int i = 0; i < list.Count; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * 8), list[i]);
        return bytes;
    }

    public static List<long> Decode(byte[]? bytes)
    {
        var list = new List<long>();
        if (bytes is null) return list;
        for (int i = 0; i + 8 <= bytes.Length; i += 8) list.Add(BitConverter.ToInt64(bytes, i));
        return list;
    }
}
