namespace Leasehold.Runtime.Serializable.Worker;

/// <summary>
/// How a worker orders access to the keys it runs operations on: the lease protocol or no concurrency
/// control. The worker engine (<see cref="ClusterWorker"/>) owns batches, operations, executors and
/// the commit path, and calls these hooks once per batch, operation or workflow, never per key access.
/// </summary>
internal interface IWorkerProtocol
{
    /// <summary>Handles a message from another worker if it is one of this protocol's; false otherwise.</summary>
    bool Receive(Transport.Message message);

    /// <summary>The driver's plan for a batch: apply its lease table and build and start its operations.</summary>
    void Plan(Messages.PlanMsg plan, BatchState batch);

    /// <summary>
    /// An operation's parents are done: false while the protocol still has to gather its values first,
    /// in which case it dispatches the operation again once they are in.
    /// </summary>
    bool PrepareDispatch(Operation op);

    /// <summary>Applies a finished operation's writes (none if discarded) and gives back every key it holds.</summary>
    void Release(Operation op, WriteSet? writes);

    /// <summary>An operation with declared state that will not run: give back whatever it holds.</summary>
    void Cancel(Operation op);

    /// <summary>A workflow's outcome is decided here: lift, or undo, what the protocol held for it.</summary>
    void OnResolved(WorkflowRun run, bool committed);

    /// <summary>Every operation of a workflow routed here has retired.</summary>
    void OnRequestDone(WorkflowRun run);

    /// <summary>Whether a batch is finished here, so it can be written to the store and reported.</summary>
    bool IsFinished(BatchState batch);

    /// <summary>The values a finished batch writes to the store from this worker.</summary>
    List<KeyValuePair<StateKey, byte[]?>> WriteSet(BatchState batch);
}
