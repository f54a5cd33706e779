namespace Leasehold.Checkers.Causal;

public enum CausalOpKind : byte
{
    Read,
    Write,
}

/// <summary>
/// One operation of a function execution: <c>{"f":"r","k":"k1","v":5}</c> or <c>{"f":"w","k":"k2","v":42}</c>.
/// A read's <see cref="Value"/> is null when it returned the key's initial value; a write's is never null.
/// </summary>
public readonly record struct CausalOp(CausalOpKind Kind, string Key, long? Value)
{
    public static CausalOp Read(string key, long? value) => new(CausalOpKind.Read, key, value);

    public static CausalOp Write(string key, long value) => new(CausalOpKind.Write, key, value);

    public override string ToString() => Kind == CausalOpKind.Write
        ? $"w({Key})={Value}"
        : $"r({Key})={(Value is { } v ? v.ToString(System.Globalization.CultureInfo.InvariantCulture) : "init")}";
}

/// <summary>
/// One function execution of a causal-mode workflow, as the recorder writes it (one JSON line, see
/// <see cref="CausalHistoryJson"/>).
/// </summary>
/// <param name="Process">the client session that issued the workflow</param>
/// <param name="Seq">the workflow's place in its process's sequence (0, 1, 2, …): seq n completed before seq n + 1 began</param>
/// <param name="Workflow">the workflow's id, unique in the history</param>
/// <param name="Function">the function's index in its workflow; parents have lower indices</param>
/// <param name="Parents">the indices of the functions that finished before this one started</param>
/// <param name="Ok">false for a read-write transaction that aborted: then the whole workflow is aborted</param>
/// <param name="Ops">the operations, in the order the function ran them</param>
public sealed record CausalRecord(long Process, long Seq, long Workflow, int Function, int[] Parents, bool Ok, CausalOp[] Ops)
{
    /// <summary>The cache server the function ran on: informational, the checker does not use it.</summary>
    public int? Server { get; init; }

    /// <summary>
    /// The workflow is a read-write transaction (TCC): all its reads come from one causal snapshot and its writes
    /// become visible together at commit. Every function of one workflow says the same. JSON <c>"txn":true</c>.
    /// </summary>
    public bool Transaction { get; init; }

    /// <summary>The 1-based line of the file it came from, or 0 when it was built in memory.</summary>
    public long Line { get; init; }

    public override string ToString() =>
        $"W{Workflow}/f{Function} p{Process} seq {Seq}{(Transaction ? " txn" : "")}{(Ok ? "" : " fail")} [{string.Join(", ", Ops)}]";
}
