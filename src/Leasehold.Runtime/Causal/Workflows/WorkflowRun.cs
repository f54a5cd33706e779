namespace Leasehold.Runtime.Causal.Workflows;

/// <summary>
/// One attempt of a CausalMesh workflow in flight, owned by the client node and touched on its mailbox only:
/// which functions finished (<see cref="WorkflowAttempt{TState}"/>) with the sessions they handed on, the
/// outputs the servers reported, and a transaction's held records.
/// </summary>
internal sealed class WorkflowRun(WorkflowDefinition workflow, Args args, long id, int[] placement, CausalInvocation invocation, Action<CausalResult> onDone, int aborts)
    : WorkflowAttempt<CausalSession>(workflow, args, id, placement, invocation, onDone, aborts)
{
    private List<CausalFunctionRecord>? _records;

    public bool Transactional => Workflow.Consistency == Consistency.TransactionalCausal;
    /// <summary>Joined into the snapshot of a retry: the clocks visible where earlier attempts aborted.</summary>
    public VectorClock? SnapshotHint { get; init; }
    /// <summary>A transaction's one sink committed it with this session (null: not yet, or not committed at a sink).</summary>
    public CausalSession? CommittedSession { get; set; }

    /// <summary>Function <paramref name="index"/> finished with <paramref name="session"/>; its server sent its children on itself.</summary>
    public void Done(int index, CausalSession session) => Finished(index, session, static _ => 0);

    /// <summary>What the workflow has seen and written so far: every finished function's session and <paramref name="current"/>.</summary>
    public CausalSession SessionSoFar(CausalSession current) => CausalSession.Merge(FinishedStates().Append(current));

    /// <summary>True once every function finished; the final session merges them all (what the caller's next workflow must see).</summary>
    public bool AllDone(out CausalSession final) => AllDone(CausalSession.Merge, out final);

    /// <summary>
    /// A transaction's function record, held until it ends: a committed or failed one records them all (failed:
    /// not ok, so none of its writes may be seen), an aborted attempt none — it had no effect, and its retry takes
    /// its place in the caller's sequence.
    /// </summary>
    public void Hold(CausalFunctionRecord record) => (_records ??= []).Add(record);

    /// <summary>The held records, as the ended attempt reports them.</summary>
    public IEnumerable<CausalFunctionRecord> HeldRecords(bool committed) =>
        _records is null ? [] : committed ? _records : _records.Select(r => r with { Ok = false });
}
