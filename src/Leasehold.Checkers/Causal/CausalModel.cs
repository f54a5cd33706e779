namespace Leasehold.Checkers.Causal;

/// <summary>One operation, compact: the key is an index into <see cref="CausalModel.Keys"/>.</summary>
internal readonly record struct OpInfo(int Key, long Value, CausalOpKind Kind, bool Init)
{
    public bool IsWrite => Kind == CausalOpKind.Write;
}

/// <summary>A workflow: its session place, and its functions (global ids) in index order.</summary>
internal sealed class WorkflowInfo(long id, long process, long seq)
{
    public readonly long Id = id;
    public readonly long Process = process;
    public readonly long Seq = seq;
    /// <summary>Some function of it failed: none of its writes may be read, none of its reads is checked.</summary>
    public bool Aborted;
    /// <summary>A read-write transaction (TCC): one snapshot for all its reads, its writes visible together at commit.</summary>
    public bool Transaction;
    /// <summary>Global function ids, sorted by index once loading is done.</summary>
    public List<int> Functions = [];
    /// <summary>The line of its first record, for messages.</summary>
    public long Line;
}

/// <summary>
/// A function execution. <see cref="Recorded"/> is false for a placeholder: a parent that some recorded function
/// names but that has no record (the run was cut off). A placeholder has no operations and, its own parents
/// being unknown, counts as a root of its workflow; it keeps the order parent → child.
/// </summary>
internal sealed class FunctionInfo(int workflow, int index)
{
    public readonly int Workflow = workflow;
    public readonly int Index = index;
    public bool Recorded;
    public bool Ok = true;
    public int? Server;
    public long Line;
    /// <summary>The parents as recorded (indices in the workflow).</summary>
    public int[] LocalParents = [];
    /// <summary>The parents as global function ids (placeholders included).</summary>
    public int[] Parents = [];
    public int FirstOp;
    public int OpCount;
}

/// <summary>
/// A causal history in compact, validated form: keys interned, every operation in one array, workflows
/// grouped with their functions, placeholders for unrecorded parents.
/// </summary>
internal sealed class CausalModel
{
    public required IReadOnlyList<string> Keys { get; init; }
    public required OpInfo[] Ops { get; init; }
    public required IReadOnlyList<WorkflowInfo> Workflows { get; init; }
    public required IReadOnlyList<FunctionInfo> Functions { get; init; }
    /// <summary>Each process's committed workflows, in seq order (aborted ones have no effect and are left out).</summary>
    public required IReadOnlyList<int[]> Sessions { get; init; }
    /// <summary>Every write (committed or not) by (key, value): who wrote it. Values are unique per key.</summary>
    public required Dictionary<(int Key, long Value), int> WriterOp { get; init; }
    /// <summary>The function each operation belongs to.</summary>
    public required int[] OpFunction { get; init; }
    public long RecordedFunctions { get; init; }

    public bool Committed(int function) => !Workflows[Functions[function].Workflow].Aborted;

    /// <summary>The record a function came from, rebuilt (for the operations shown with an anomaly); null for a placeholder.</summary>
    public CausalRecord? Record(int function)
    {
        var f = Functions[function];
        if (!f.Recorded) return null;
        var w = Workflows[f.Workflow];
        var ops = new CausalOp[f.OpCount];
        for (int i = 0; i < ops.Length; i++)
        {
            var op = Ops[f.FirstOp + i];
            ops[i] = op.IsWrite ? CausalOp.Write(Keys[op.Key], op.Value) : CausalOp.Read(Keys[op.Key], op.Init ? null : op.Value);
        }
        return new CausalRecord(w.Process, w.Seq, w.Id, f.Index, f.LocalParents, f.Ok, ops) { Server = f.Server, Line = f.Line, Transaction = w.Transaction };
    }
}
