namespace Leasehold.Checkers.Histories;

/// <summary>An invocation, or a transaction's completion together with its invocation.</summary>
public readonly record struct TxnEvent(int Txn, HistoryOp Invoke, HistoryOp? Completion)
{
    public bool IsInvoke => Completion is null && !Dangling;

    /// <summary>A synthetic completion, at the end of the history, of an invocation that never completed.</summary>
    public bool Dangling { get; init; }

    /// <summary>The outcome: Ok, Fail or Info (a dangling invocation is Info: it may have committed).</summary>
    public OpType Outcome => Dangling ? OpType.Info : Completion!.Type;

    /// <summary>The micro-operations as completed (reads filled in for ok), or as invoked.</summary>
    public MicroOp[] Ops => Completion is { Type: OpType.Ok } c ? c.Value : Invoke.Value;
}

/// <summary>
/// Pairs invocations with completions, Jepsen's way: a process is sequential, and a process whose
/// operation ended <c>info</c> is retired (a fresh id replaces it). Transactions are numbered in
/// invocation order. Whatever breaks those rules is a <see cref="HistoryFormatException"/> naming the line.
/// </summary>
public static class TransactionPairer
{
    public static IEnumerable<TxnEvent> Events(IEnumerable<HistoryOp> ops)
    {
        var open = new Dictionary<long, (int Txn, HistoryOp Invoke)>();
        var retired = new Dictionary<long, long>(); // process → line where it ended info
        long lastIndex = long.MinValue;
        int next = 0;
        foreach (var op in ops)
        {
            if (op.Index <= lastIndex)
                throw new HistoryFormatException(op.Line, $"index {op.Index} does not follow {lastIndex}: indices must increase");
            lastIndex = op.Index;
            if (retired.TryGetValue(op.Process, out long infoLine))
                throw new HistoryFormatException(op.Line, $"process {op.Process} ended with info at line {infoLine} and is retired; a fresh process id must be used");
            if (op.Type == OpType.Invoke)
            {
                if (open.TryGetValue(op.Process, out var busy))
                    throw new HistoryFormatException(op.Line, $"process {op.Process} invokes while its operation of line {busy.Invoke.Line} is still in flight (a process is sequential)");
                foreach (var m in op.Value)
                    if (m.Kind == MicroOpKind.Read && m.Read is not null)
                        throw new HistoryFormatException(op.Line, $"an invocation carries the result of {m} (reads are null in an invocation)");
                int txn = next++;
                open.Add(op.Process, (txn, op));
                yield return new TxnEvent(txn, op, null);
                continue;
            }
            if (!open.Remove(op.Process, out var started))
                throw new HistoryFormatException(op.Line, $"process {op.Process} completes ({HistoryJson.TypeName(op.Type)}) with no operation in flight");
            Match(started.Invoke, op);
            if (op.Type == OpType.Info) retired.Add(op.Process, op.Line);
            yield return new TxnEvent(started.Txn, started.Invoke, op);
        }
        // Still in flight at the end: unknown, exactly like info.
        foreach (var (_, (txn, invoke)) in open.OrderBy(o => o.Value.Txn))
            yield return new TxnEvent(txn, invoke, null) { Dangling = true };
    }

    /// <summary>A completion names the same micro-operations as its invocation; an ok one carries every read.</summary>
    private static void Match(HistoryOp invoke, HistoryOp completion)
    {
        if (completion.Value.Length == 0 && completion.Type != OpType.Ok) return; // fail/info may omit the value
        if (completion.Value.Length != invoke.Value.Length)
            throw new HistoryFormatException(completion.Line, $"the completion has {completion.Value.Length} micro-operations, its invocation (line {invoke.Line}) {invoke.Value.Length}");
        for (int i = 0; i < invoke.Value.Length; i++)
        {
            var a = invoke.Value[i];
            var b = completion.Value[i];
            if (a.Kind != b.Kind || a.Key != b.Key || a.Value != b.Value)
                throw new HistoryFormatException(completion.Line, $"micro-operation {i} is {b}, but its invocation (line {invoke.Line}) says {a}");
            if (completion.Type == OpType.Ok && b.Kind == MicroOpKind.Read && b.Read is null)
                throw new HistoryFormatException(completion.Line, $"an ok completion must carry every read's result; micro-operation {i} ({b}) has none");
        }
    }
}
