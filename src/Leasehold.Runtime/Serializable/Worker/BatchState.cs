namespace Leasehold.Runtime.Serializable.Worker;

/// <summary>A worker's bookkeeping for one batch in flight: its plan, the peers' records, what is still open, what it dirtied.</summary>
internal sealed class BatchState(long id)
{
    public long Id { get; } = id;
    public Messages.PlanMsg? Plan;
    /// <summary>The workflows routed here, in the plan's order (the executed message reports them in it).</summary>
    public WorkflowRun[] Runs = [];
    /// <summary>Peers whose records (and end-of-batch marker) for this batch have arrived.</summary>
    public int Markers;
    /// <summary>Planned and every peer's marker in: no record of this batch can arrive any more.</summary>
    public bool IsOpen;
    /// <summary>Chain entries, requests and pending outcomes of this batch not yet retired here.</summary>
    public int Open;
    public bool Reported;
    /// <summary>Keys with entries of this batch here, pumped when the batch opens.</summary>
    public readonly List<int> Keys = [];
    public readonly List<int> Dirty = [];
    public readonly Dictionary<int, byte[]?> Snapshots = [];
    /// <summary>NoCC: peers that finished executing this batch.</summary>
    public int PeersDone;
    public bool SelfDone;
}
