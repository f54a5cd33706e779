using Leasehold.Runtime.Serializable.Worker;

namespace Leasehold.Runtime.Serializable;

internal enum OperationState : byte
{
    Waiting,
    Running,
    Finished,
    Cancelled,
}

/// <summary>
/// A vertex of the task precedence graph: one function of one run, ordered by (ts, position).
/// It runs when it heads the chain of every key it declares and all its parents have finished.
/// </summary>
internal sealed class Operation
{
    public Operation(WorkflowRun run, int position, ResolvedAccess[] accesses, int[] holders)
    {
        Run = run;
        Position = position;
        Accesses = accesses;
        Holders = holders;
        Values = new byte[]?[accesses.Length];
        KeysToAcquire = accesses.Length;
        KeysToRelease = accesses.Length;
        ParentsRemaining = run.Workflow.Functions[position].Parents.Length;
    }

    public WorkflowRun Run { get; }
    public int Position { get; }
    public long Ts => Run.Ts;
    public long Batch => Run.Batch;
    public FunctionDefinition Function => Run.Workflow.Functions[Position];
    public ResolvedAccess[] Accesses { get; }
    /// <summary>The leaseholder of each access in this operation's batch.</summary>
    public int[] Holders { get; }
    /// <summary>The value of each access once acquired.</summary>
    public byte[]?[] Values { get; }
    /// <summary>Written values by access index (set when the body finishes); null entries were not written.</summary>
    public WriteSet? Writes;
    public int KeysToAcquire;
    public int KeysToRelease;
    public int ParentsRemaining;
    public OperationState State;
    /// <summary>When the body started (the time provider's timestamp), written by the executor; 0 until then.</summary>
    public long StartedAt;
    /// <summary>
    /// The body has returned and its executor judged its running time; set before the notice is posted to
    /// the worker. The notice may then wait in the worker's queue for any length of time, which is not the
    /// body's, so the watchdog leaves the operation alone.
    /// </summary>
    public bool Returned;
    /// <summary>The watchdog failed the operation for overrunning its limit; its late return is ignored.</summary>
    public bool TimedOut;
    public Worker.Executor? RunningOn;
    /// <summary>NoCC: the operation has started reading its values.</summary>
    public bool Fetching;
    /// <summary>Remote accesses whose flag this operation currently holds.</summary>
    public bool[]? RemoteHeld;
    /// <summary>Lease: this operation's entries in local chains, by access index.</summary>
    public Worker.ChainEntry?[]? LocalEntries;
    /// <summary>Lease: this operation's side of its accesses to keys other workers hold, by access index.</summary>
    public Worker.Lease.RemoteAccess?[]? RemoteAccesses;

    public bool IsCancelled => State == OperationState.Cancelled;

    public int CompareOrder(long ts, int position) => Ts != ts ? Ts.CompareTo(ts) : Position.CompareTo(position);

    public override string ToString() => $"{Run.Workflow.Name}.{Function.Name}@({Ts},{Position})";
}

/// <summary>The writes of one operation, by access index.</summary>
internal sealed class WriteSet(int size)
{
    public readonly bool[] Written = new bool[size];
    public readonly byte[]?[] Values = new byte[]?[size];
}
