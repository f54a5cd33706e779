using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Wire;
using MemoryPack;

namespace Leasehold.Runtime.Causal.Messages;

/// <summary>
/// One function of one attempt, as it travels to the server that runs it: the workflow by name (deployed code
/// every server has), the arguments, where every function runs (a finished function sends its children on
/// itself), the parents' outputs and the session the function continues (as data: the receiver builds its own).
/// </summary>
/// <param name="ParentOutputs">one slot per function of the workflow; the sending parent's (or, joined, every parent's) is filled.</param>
/// <param name="Record">whether the server reports a history record of the execution.</param>
[MemoryPackable]
internal sealed partial record FunctionCall(long RunId, string Workflow, int Function, [property: MemoryPackAllowSerialize] Args Args, int[] Placement, [property: MemoryPackAllowSerialize] SessionData Session, byte[]?[] ParentOutputs,
    long Process, long Seq, [property: WireBool] bool Record);

/// <summary>
/// A read-write transaction starts at its first root's server: the snapshot is taken there, the first root runs
/// there, and the other roots are sent on from there, each with the same snapshot.
/// </summary>
/// <param name="OtherRoots">the other root functions, and <paramref name="OtherServers"/> where each runs.</param>
/// <param name="SnapshotHint">clocks visible where earlier attempts aborted, joined into the snapshot (null: none).</param>
[MemoryPackable]
internal sealed partial record StartTransactionMsg(FunctionCall First, int[] OtherRoots, int[] OtherServers, [property: MemoryPackAllowSerialize] VectorClock? SnapshotHint) : Message;

/// <summary>
/// Runs one function on the receiving server: a root, sent by the client (<paramref name="Parent"/> −1), or a child,
/// sent by the server of <paramref name="Parent"/>; a child of several parents runs once every parent's hop is in.
/// </summary>
[MemoryPackable]
internal sealed partial record FunctionHopMsg(FunctionCall Call, int Parent = -1) : Message;

/// <summary>
/// <paramref name="Parent"/> will not send <paramref name="Function"/> on (it failed, or its transaction aborted, or
/// it was skipped itself): the function does not run, and a fan-in waiting for that parent stops waiting.
/// </summary>
[MemoryPackable]
internal sealed partial record FunctionSkippedMsg(long RunId, string Workflow, int Function, int Parent, int[] Placement) : Message;

/// <summary>
/// A function finished: its output and the session it handed on. <paramref name="Committed"/>: it was the
/// transaction's one sink, whose session holds every other function's, and its server committed the transaction.
/// </summary>
[MemoryPackable]
internal sealed partial record FunctionDoneMsg(long RunId, int Function, [property: MemoryPackAllowSerialize] SessionData Session, byte[]? Output, [property: MemoryPackAllowSerialize] FunctionRecordData? Record, [property: WireBool] bool Committed = false) : Message;

/// <summary>A function failed: the attempt ends with <paramref name="Reason"/>.</summary>
[MemoryPackable]
internal sealed partial record FunctionFailedMsg(long RunId, int Function, [property: MemoryPackAllowSerialize] SessionData Session, string Reason, [property: MemoryPackAllowSerialize] FunctionRecordData? Record) : Message;

/// <summary>A transaction's snapshot is gone on the sending server: the attempt aborts; its retry joins <paramref name="SnapshotHint"/> into its snapshot.</summary>
[MemoryPackable]
internal sealed partial record AttemptAbortedMsg(long RunId, [property: MemoryPackAllowSerialize] VectorClock? SnapshotHint) : Message;

/// <summary>Commits a transaction whose functions all finished, with the receiver as the writes' head.</summary>
[MemoryPackable]
internal sealed partial record CommitMsg(long RunId, [property: MemoryPackAllowSerialize] SessionData Final) : Message;

/// <summary>The transaction's writes are on the ring: <paramref name="Final"/> holds them (what the caller's token carries).</summary>
[MemoryPackable]
internal sealed partial record TransactionCommittedMsg(long RunId, [property: MemoryPackAllowSerialize] SessionData Final) : Message;
