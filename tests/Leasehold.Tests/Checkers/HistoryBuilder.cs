using Leasehold.Checkers.Histories;
using Leasehold.Checkers.ListAppend;

namespace Leasehold.Tests.Checkers;

/// <summary>
/// Hand-made list-append histories in the style of Elle's tests. Each transaction names its process,
/// the logical times of its invocation and completion, its outcome and its micro-operations as they
/// completed (reads with their results):
/// <code>
/// var h = new HistoryBuilder()
///     .T(0, 1, 2, Ok, Append(x, 1))
///     .T(1, 3, 4, Ok, Read(x, 1));
/// </code>
/// Times order the events (every time used once); the invocation carries the same micro-operations
/// with the reads null, as Jepsen writes them. A null completion time leaves the invocation in flight.
/// </summary>
internal sealed class HistoryBuilder
{
    public const OpType Ok = OpType.Ok;
    public const OpType Fail = OpType.Fail;
    public const OpType Info = OpType.Info;

    private readonly SortedDictionary<int, (long Process, OpType Type, MicroOp[] Ops)> _events = [];
    private int _serialClock;
    private long _serialProcess = 1000;

    public static MicroOp Append(long key, long value) => MicroOp.Append(key, value);

    public static MicroOp Read(long key, params long[] values) => MicroOp.ReadOf(key, values);

    /// <summary>A transaction of <paramref name="process"/>, invoked at <paramref name="invokeAt"/> and completed at <paramref name="completeAt"/> (null: never).</summary>
    public HistoryBuilder T(long process, int invokeAt, int? completeAt, OpType outcome, params MicroOp[] ops)
    {
        if (completeAt is { } c && c <= invokeAt) throw new ArgumentException($"completes at {c}, not after its invocation at {invokeAt}");
        Add(invokeAt, process, OpType.Invoke, Unread(ops));
        if (completeAt is { } at) Add(at, process, outcome, outcome == OpType.Ok ? ops : Unread(ops));
        _serialClock = Math.Max(_serialClock, (completeAt ?? invokeAt) + 1);
        return this;
    }

    /// <summary>A transaction after everything so far, on a process of its own.</summary>
    public HistoryBuilder Serial(OpType outcome, params MicroOp[] ops)
    {
        int at = _serialClock;
        return T(_serialProcess++, at, at + 1, outcome, ops);
    }

    /// <summary>A committed transaction after everything so far.</summary>
    public HistoryBuilder Serial(params MicroOp[] ops) => Serial(OpType.Ok, ops);

    public List<HistoryOp> Build()
    {
        var ops = new List<HistoryOp>(_events.Count);
        foreach (var (time, (process, type, value)) in _events)
            ops.Add(new HistoryOp(ops.Count, process, type, "txn", value, time * 1_000L));
        return ops;
    }

    public CheckResult Check(bool strict = false) =>
        new ListAppendChecker(new CheckerOptions { Strict = strict }).Check(new MemoryHistory(Build()));

    /// <summary>How the checker names the transaction that completed at <paramref name="completeAt"/>: T and its completion's index.</summary>
    public string Name(int completeAt)
    {
        int index = _events.Keys.TakeWhile(t => t < completeAt).Count();
        if (!_events.ContainsKey(completeAt)) throw new ArgumentException($"nothing happens at {completeAt}");
        return $"T{index}";
    }

    public IEnumerable<string> JsonLines() => Build().Select(HistoryJson.ToLine);

    private void Add(int time, long process, OpType type, MicroOp[] ops)
    {
        if (!_events.TryAdd(time, (process, type, ops))) throw new ArgumentException($"time {time} is used twice");
    }

    private static MicroOp[] Unread(MicroOp[] ops) =>
        [.. ops.Select(m => m.Kind == MicroOpKind.Read ? MicroOp.ReadOf(m.Key) : m)];
}

/// <summary>Assertions on checker verdicts, with the verdict in the message.</summary>
internal static class Verdict
{
    public static string Describe(CheckResult r) =>
        (r.Valid ? "valid" : "invalid") + ": " +
        string.Join(", ", r.Counts.Where(c => c.Value > 0).Select(c => $"{c.Key}={c.Value}")) + "\n" +
        string.Join("\n", r.Examples.Select(a => a.Explanation));

    public static void Valid(CheckResult r) => Assert.True(r.Valid, Describe(r));

    /// <summary>Invalid, with <paramref name="kind"/> reported, and (given) nothing outside <paramref name="alsoAllowed"/>.</summary>
    public static void Flags(CheckResult r, string kind, params string[] alsoAllowed)
    {
        Assert.False(r.Valid, Describe(r));
        Assert.True(r.Counts[kind] >= 1, $"expected {kind}; got {Describe(r)}");
        var unrelated = r.Counts.Where(c => c.Value > 0 && c.Key != kind && !alsoAllowed.Contains(c.Key)).Select(c => c.Key).ToList();
        Assert.True(unrelated.Count == 0, $"expected only {kind}; also got {string.Join(", ", unrelated)}: {Describe(r)}");
    }

    /// <summary>Flagged as <paramref name="kind"/>, whatever else comes with it.</summary>
    public static void FlagsAtLeast(CheckResult r, string kind)
    {
        Assert.False(r.Valid, Describe(r));
        Assert.True(r.Counts[kind] >= 1, $"expected {kind}; got {Describe(r)}");
    }

    public static Anomaly Example(CheckResult r, string kind) =>
        r.Examples.FirstOrDefault(a => a.Kind == kind) ?? throw new Xunit.Sdk.XunitException($"no {kind} example: {Describe(r)}");
}
