namespace Leasehold.Checkers.Histories;

/// <summary>Jepsen's operation types: an invocation and its one completion.</summary>
public enum OpType : byte
{
    Invoke,
    /// <summary>Committed.</summary>
    Ok,
    /// <summary>Definitely did not commit.</summary>
    Fail,
    /// <summary>Unknown: it may have committed. Never treated as failed.</summary>
    Info,
}

public enum MicroOpKind : byte
{
    Append,
    Read,
}

/// <summary>
/// One micro-operation of a list-append transaction: <c>["append", k, v]</c> or <c>["r", k, [v…]]</c>.
/// A read's <see cref="Read"/> is null when its result is unknown (an invocation, a failed or unknown completion).
/// </summary>
public readonly record struct MicroOp(MicroOpKind Kind, long Key, long Value, long[]? Read)
{
    public static MicroOp Append(long key, long value) => new(MicroOpKind.Append, key, value, null);

    public static MicroOp ReadOf(long key, long[]? values = null) => new(MicroOpKind.Read, key, 0, values);

    public override string ToString() => Kind == MicroOpKind.Append
        ? $"append({Key}, {Value})"
        : $"r({Key}) = {(Read is null ? "?" : "[" + string.Join(", ", Read) + "]")}";
}

/// <summary>
/// One line of a history: <c>{"index":0,"process":3,"type":"invoke","f":"txn","value":[…],"time":123}</c>,
/// time in nanoseconds. A process is sequential: one operation in flight at a time.
/// </summary>
public sealed record HistoryOp(long Index, long Process, OpType Type, string F, MicroOp[] Value, long TimeNs)
{
    /// <summary>The 1-based line of the file it came from, or 0 when it was built in memory.</summary>
    public long Line { get; init; }

    public override string ToString() =>
        $"#{Index} p{Process} {Type.ToString().ToLowerInvariant()} [{string.Join(", ", Value)}]";
}
