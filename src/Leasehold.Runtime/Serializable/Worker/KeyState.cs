namespace Leasehold.Runtime.Serializable.Worker;

/// <summary>What one worker knows of one object: its chain, whether it holds the value, and the pending outcome that gates it.</summary>
internal sealed class KeyState(int id, StateKey key)
{
    public int Id { get; } = id;
    public StateKey Key { get; } = key;
    public OperationChain Chain { get; } = new();
    /// <summary>This worker holds the object's value in its region (loaded, or handed over to it).</summary>
    public bool ValueReady;
    /// <summary>Hand-overs that arrived before the entry waiting for them reached the head.</summary>
    public int ArrivalsPending;
    /// <summary>The batch of the latest entry that started here; entering a later batch snapshots dirty values.</summary>
    public long Batch;

    /// <summary>The workflow whose writes are visible here before its outcome is known (−1: none). Others wait.</summary>
    public long TentativeTs = -1;
    public long TentativeBatch;
    public byte[]? BeforeImage;

    /// <summary>The batch that last wrote the value, and whether its end-of-batch value is already captured.</summary>
    public long DirtyBatch;
    public bool Snapshotted;

    /// <summary>NoCC: operations waiting for the value to be loaded.</summary>
    public List<Action>? Waiters;
}
