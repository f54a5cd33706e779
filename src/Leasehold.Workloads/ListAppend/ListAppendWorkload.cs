using Leasehold.Checkers.Histories;
using Leasehold.Runtime.Storage;

namespace Leasehold.Workloads.ListAppend;

/// <summary>
/// Jepsen/Elle's list-append: keys hold lists; a transaction is 1–4 micro-operations, each an
/// <c>append(k, v)</c> (v unique per key) or a <c>read(k)</c>, each its own function, so one
/// transaction spans several functions and, through leases, several workers. Keys are drawn with an
/// exponential bias from a small set of active keys; a key that has taken its cap of appends is
/// retired for a fresh one, so reads stay short and the history grows linearly.
/// </summary>
public sealed class ListAppendWorkload : IHistoryWorkload
{
    public const string Table = "lists";
    public const int MaxOps = 4;

    private readonly Lock _lock = new();
    private readonly long[] _active;
    private readonly Dictionary<long, long> _appended = []; // key → values handed out (1..n)
    private long _nextKey;
    private long _committedAppends;
    private long _unknownAppends;
    private readonly Dictionary<string, bool[]> _shapes = new(StringComparer.Ordinal); // workflow → is-append per op

    public ListAppendWorkload(int activeKeys = 10, int maxAppendsPerKey = 16)
    {
        if (activeKeys is < 1 or > 1_000_000) throw new ArgumentOutOfRangeException(nameof(activeKeys), activeKeys, "active keys are 1..1000000");
        if (maxAppendsPerKey is < 1 or > 100_000) throw new ArgumentOutOfRangeException(nameof(maxAppendsPerKey), maxAppendsPerKey, "appends per key are 1..100000");
        MaxAppendsPerKey = maxAppendsPerKey;
        _active = new long[activeKeys];
        for (int i = 0; i < activeKeys; i++) _active[i] = _nextKey++;
        var workflows = new List<WorkflowDefinition>();
        for (int length = 1; length <= MaxOps; length++)
            for (int pattern = 0; pattern < 1 << length; pattern++)
            {
                var appends = Enumerable.Range(0, length).Select(i => (pattern >> i & 1) == 1).ToArray();
                string name = "la-" + new string(appends.Select(a => a ? 'a' : 'r').ToArray());
                _shapes.Add(name, appends);
                workflows.Add(Transaction(name, appends));
            }
        Workflows = workflows;
    }

    public string Name => "list-append";
    public int MaxAppendsPerKey { get; }
    public IReadOnlyList<WorkflowDefinition> Workflows { get; }

    /// <summary>One function per micro-operation, no edges: operations on one key are ordered by their position.</summary>
    private static WorkflowDefinition Transaction(string name, bool[] appends)
    {
        var builder = new WorkflowBuilder(name);
        for (int i = 0; i < appends.Length; i++)
        {
            string keyParam = $"k{i}", valueParam = $"v{i}";
            bool isAppend = appends[i];
            builder.Function($"m{i}", f =>
            {
                if (isAppend)
                    f.Updates(Table, a => a.GetString(keyParam)).Body(ctx =>
                    {
                        string key = ctx.Args.GetString(keyParam);
                        ctx.Write(Table, key, ListValue.Append(ctx.Read(Table, key), ctx.Args.GetLong(valueParam)));
                        return null;
                    });
                else f.Reads(Table, a => a.GetString(keyParam)).Body(ctx => ctx.Read(Table, ctx.Args.GetString(keyParam)) ?? []);
            });
        }
        return builder.Build();
    }

    public IEnumerable<KeyValuePair<StateKey, byte[]>> InitialState() => []; // lists start absent, read as empty

    public (string Workflow, Args Args) Next(Random random)
    {
        int length = 1 + random.Next(MaxOps);
        var args = Args.Create();
        var shape = new char[length];
        lock (_lock)
        {
            for (int i = 0; i < length; i++)
            {
                // Exponential key choice: slot s with probability ~2^-(s+1), so a few keys are hot.
                int slot = Math.Min(_active.Length - 1, (int)Math.Floor(-Math.Log2(1 - random.NextDouble())));
                long key = _active[slot];
                args.Set($"k{i}", key);
                if (random.Next(2) == 0)
                {
                    shape[i] = 'r';
                    continue;
                }
                shape[i] = 'a';
                long value = _appended.TryGetValue(key, out long n) ? n + 1 : 1;
                _appended[key] = value;
                args.Set($"v{i}", value);
                if (value >= MaxAppendsPerKey) _active[slot] = _nextKey++; // retired: later transactions use a fresh key
            }
        }
        return ("la-" + new string(shape), args.Build());
    }

    public MicroOp[] Describe(string workflow, Args args)
    {
        var shape = Shape(workflow);
        var ops = new MicroOp[shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            long key = args.GetLong($"k{i}");
            ops[i] = shape[i] ? MicroOp.Append(key, args.GetLong($"v{i}")) : MicroOp.ReadOf(key);
        }
        return ops;
    }

    public MicroOp[] Completed(string workflow, Args args, WorkflowResult result)
    {
        var ops = Describe(workflow, args);
        for (int i = 0; i < ops.Length; i++)
            if (ops[i].Kind == MicroOpKind.Read)
                ops[i] = MicroOp.ReadOf(ops[i].Key, ListValue.Decode(result.Outputs[i]));
        return ops;
    }

    public void Observe(string workflow, Args args, WorkflowResult result)
    {
        if (result.Status is not (WorkflowStatus.Committed or WorkflowStatus.Unknown)) return;
        long appends = Shape(workflow).Count(a => a);
        if (result.IsCommitted) Interlocked.Add(ref _committedAppends, appends);
        else Interlocked.Add(ref _unknownAppends, appends);
    }

    /// <summary>
    /// The committed lists hold exactly the committed appends (plus any unknown ones that did commit),
    /// each value once and only values that were handed out. The history checker does the rest.
    /// </summary>
    public async Task<InvariantResult> CheckAsync(IStateStore store, CancellationToken cancellation = default)
    {
        long elements = 0, duplicates = 0, garbage = 0;
        int lists = 0;
        Dictionary<long, long> handedOut;
        lock (_lock) handedOut = new Dictionary<long, long>(_appended);
        await foreach (var (key, value) in store.ScanCommittedAsync(Table, cancellation))
        {
            lists++;
            var list = ListValue.Decode(value);
            elements += list.Length;
            duplicates += list.Length - list.Distinct().Count();
            long max = long.TryParse(key, out long k) && handedOut.TryGetValue(k, out long n) ? n : 0;
            garbage += list.Count(v => v < 1 || v > max);
        }
        long committed = Interlocked.Read(ref _committedAppends), unknown = Interlocked.Read(ref _unknownAppends);
        bool ok = duplicates == 0 && garbage == 0 && elements >= committed && elements <= committed + unknown;
        return new InvariantResult("list-contents", ok,
            $"{lists} lists hold {elements} elements; committed appends {committed} (+{unknown} unknown); {duplicates} duplicates, {garbage} values never appended");
    }

    private bool[] Shape(string workflow) =>
        _shapes.TryGetValue(workflow, out var shape) ? shape : throw new ArgumentException($"'{workflow}' is not a list-append workflow");
}
