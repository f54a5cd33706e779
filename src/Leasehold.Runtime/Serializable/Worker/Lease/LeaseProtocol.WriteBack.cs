namespace Leasehold.Runtime.Serializable.Worker.Lease;

/// <summary>
/// Values at batch boundaries: each batch writes to the store the keys it dirtied here, as they stood
/// when its last entry on them ended, even if a later batch has since changed them.
/// </summary>
internal sealed partial class LeaseProtocol
{
    private void MarkDirty(KeyState key, long batch)
    {
        if (key.DirtyBatch == batch) return;
        key.DirtyBatch = batch;
        key.Snapshotted = false;
        _worker.Batch(batch).Dirty.Add(key.Id);
    }

    /// <summary>The first entry of a later batch is about to start: capture the value the earlier batch left.</summary>
    private void EnterBatch(KeyState key, long batch)
    {
        if (key.DirtyBatch != 0 && key.DirtyBatch < batch && !key.Snapshotted)
        {
            if (_worker.TryGetBatch(key.DirtyBatch, out var dirty) && !dirty.Reported)
                dirty.Snapshots[key.Id] = Region.Read(key.Id).Value;
            key.Snapshotted = true;
        }
        key.Batch = batch;
    }

    public List<KeyValuePair<StateKey, byte[]?>> WriteSet(BatchState batch)
    {
        var writes = new List<KeyValuePair<StateKey, byte[]?>>(batch.Dirty.Count);
        foreach (int id in batch.Dirty)
        {
            var key = _worker.KeyOf(id);
            if (!batch.Snapshots.TryGetValue(id, out var value))
            {
                value = Region.Read(id).Value;
                if (key.DirtyBatch == batch.Id) key.Snapshotted = true;
            }
            writes.Add(new(key.Key, value));
        }
        return writes;
    }
}
