using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Serializable.Worker;

/// <summary>
/// The lease protocol (§4–§6): per-key chains ordered by (ts, position), virtual vertices for other
/// workers' operations, the flag hand-shake over one-sided operations, lease hand-over between batches,
/// and the outcome barrier that keeps a workflow's writes from later workflows until it is decided.
/// </summary>
internal sealed partial class ClusterWorker
{
    private void PlanLease(BatchPlan plan, BatchState batch)
    {
        foreach (var lease in plan.Leases)
        {
            if (lease.Holder != lease.PreviousHolder)
            {
                if (lease.PreviousHolder == Id) AddTransition(batch, plan, lease, EntryKind.HandoverOut, lease.Holder);
                else if (lease.Holder == Id) AddTransition(batch, plan, lease, EntryKind.AwaitIn, lease.PreviousHolder);
            }
            SetHolder(lease.KeyId, lease.Holder);
        }

        var records = new List<ChainEntry>?[_peers.Length];
        foreach (var request in plan.Requests)
        {
            batch.Open++;
            foreach (var op in BuildOperations(request))
            {
                for (int a = 0; a < op.Accesses.Length; a++)
                {
                    var access = op.Accesses[a];
                    var entry = new ChainEntry(op.Holders[a] == Id ? EntryKind.Local : EntryKind.Virtual, op.Ts, op.Position, plan.Id, access.KeyId)
                    {
                        Operation = op,
                        AccessIndex = a,
                        Peer = Id,
                    };
                    if (op.Holders[a] == Id)
                    {
                        op.LocalEntries ??= new ChainEntry?[op.Accesses.Length];
                        op.LocalEntries[a] = entry;
                        Insert(batch, KeyOf(access.KeyId, access.Key), entry);
                    }
                    else (records[op.Holders[a]] ??= []).Add(entry);
                }
            }
        }

        // One message per peer per batch: its records, which is also the end-of-batch marker.
        for (int p = 0; p < _peers.Length; p++)
        {
            if (p == Id) continue;
            var peer = _peers[p];
            var sent = records[p]?.ToArray() ?? [];
            long id = plan.Id;
            _network.Send(Mailbox, peer.Mailbox, () => peer.OnRecords(id, sent));
        }
        MaybeOpen(batch);
        foreach (var request in plan.Requests)
            foreach (var op in request.Operations)
                if (op.Accesses.Length == 0) TryDispatch(op);
    }

    private void AddTransition(BatchState batch, BatchPlan plan, LeaseEntry lease, EntryKind kind, int peer)
    {
        var entry = new ChainEntry(kind, plan.FirstTs, -1, plan.Id, lease.KeyId) { Peer = peer };
        Insert(batch, KeyOf(lease.KeyId, lease.Key), entry);
    }

    private void Insert(BatchState batch, KeyState key, ChainEntry entry)
    {
        key.Chain.Insert(entry);
        batch.Open++;
        batch.Keys.Add(key.Id);
    }

    /// <summary>A peer's virtual vertices for batch b, and its end-of-batch marker.</summary>
    public void OnRecords(long batchId, ChainEntry[] records)
    {
        var batch = BatchOf(batchId);
        if (batch.IsOpen) throw new InvalidOperationException($"worker {Id}: records for batch {batchId} after it opened");
        foreach (var record in records)
        {
            var access = record.Operation!.Accesses[record.AccessIndex];
            Insert(batch, KeyOf(access.KeyId, access.Key), record);
        }
        batch.Markers++;
        MaybeOpen(batch);
    }

    /// <summary>A batch opens once it is planned here and every peer's records are in: no late record can land behind a started operation.</summary>
    private void MaybeOpen(BatchState batch)
    {
        if (batch.IsOpen || batch.Plan is null || batch.Markers < _peers.Length - 1) return;
        batch.IsOpen = true;
        foreach (int key in batch.Keys) Pump(KeyOf(key));
        if (batch.Open == 0) TryReport();
    }

    private bool IsOpen(long batchId) => _batches.TryGetValue(batchId, out var b) && b.IsOpen;

    /// <summary>Starts whatever can start at the head of a key's chain.</summary>
    private void Pump(KeyState key)
    {
        while (key.Chain.Head is { } head)
        {
            if (head.Active || !IsOpen(head.Batch)) return;
            if (head.Kind == EntryKind.Local && head.Operation!.IsCancelled)
            {
                PopAndRetire(key, head);
                KeyReleased(head.Operation);
                continue;
            }
            if (key.TentativeTs >= 0 && key.TentativeTs != head.Ts) return; // a workflow's outcome is pending
            if (head.Kind != EntryKind.AwaitIn && !key.ValueReady) return;
            if (head.Batch > key.Batch) EnterBatch(key, head.Batch);
            var slot = Region[key.Id];
            switch (head.Kind)
            {
                case EntryKind.Local:
                    head.Active = true;
                    head.Operation!.Values[head.AccessIndex] = slot.Read().Value;
                    AcquiredKey(head.Operation);
                    return;
                case EntryKind.Virtual:
                    if (slot.Flag != Id) throw new InvalidOperationException($"worker {Id}: granting {head} but the flag is {slot.Flag}");
                    Grant(slot, head);
                    return;
                case EntryKind.HandoverOut:
                    HandOver(key, head);
                    continue;
                case EntryKind.AwaitIn:
                    if (head.Peer < 0)
                    {
                        LoadFromStore(key, head);
                        return;
                    }
                    if (key.ArrivalsPending == 0) return; // the old holder has not handed over yet
                    key.ArrivalsPending--;
                    if (slot.Flag != Id) throw new InvalidOperationException($"worker {Id}: hand-over of key {key.Id} arrived but the flag is {slot.Flag}");
                    key.ValueReady = true;
                    PopAndRetire(key, head);
                    continue;
            }
        }
    }

    /// <summary>Lets another worker's operation at the head touch the key: the flag names it, and it hears so.</summary>
    private void Grant(Slot slot, ChainEntry granted)
    {
        granted.Active = true;
        granted.BeforeImage = slot.Read().Value;
        slot.WriteFlag(granted.Peer);
        var requester = _peers[granted.Peer];
        _network.Send(Mailbox, requester.Mailbox, requester._handlers.Grant, granted);
    }

    /// <summary>
    /// The lease arrives from nobody: load the committed value. A method of its own because its lambdas
    /// capture <paramref name="key"/>: inside Pump, the compiler would allocate their closure on every call.
    /// </summary>
    private void LoadFromStore(KeyState key, ChainEntry loading)
    {
        loading.Active = true;
        _generation.Call(() => _store.ReadCommittedAsync(key.Key), Mailbox, value =>
        {
            Region[key.Id].WriteValueThenFlag(value, Id);
            key.ValueReady = true;
            PopAndRetire(key, loading);
            Pump(key);
        }, e => ReportStoreFailure($"worker {Id} could not load {key.Key} from the {_store.Name} store: {e.Message}"));
    }

    private void PopAndRetire(KeyState key, ChainEntry entry)
    {
        key.Chain.PopHead(entry);
        Retire(entry.Batch);
    }

    /// <summary>The old holder's last operation of earlier batches is done: value into the new holder's slot, then its flag, then a notice.</summary>
    private void HandOver(KeyState key, ChainEntry entry)
    {
        var slot = Region[key.Id];
        var value = slot.Read().Value;
        key.ValueReady = false;
        slot.WriteFlag(entry.Peer);
        PopAndRetire(key, entry);
        _counters.LeaseTransferred();
        var target = _peers[entry.Peer];
        int keyId = key.Id;
        _memory.WriteValueThenFlag(entry.Peer, keyId, value, entry.Peer, Mailbox,
            () => _network.Send(Mailbox, target.Mailbox, () => target.OnHandedOver(keyId)));
    }

    public void OnHandedOver(int keyId)
    {
        var key = KeyOf(keyId);
        key.ArrivalsPending++;
        Pump(key);
    }

    // ---- the requester's side of a remote access ----------------------------------------------------

    /// <summary>The leaseholder set the flag for us: read flag and value with one one-sided read, or give the flag back if the operation was cancelled.</summary>
    private void OnGrant(ChainEntry entry)
    {
        var op = entry.Operation!;
        op.RemoteEntries ??= new ChainEntry?[op.Accesses.Length];
        op.RemoteEntries[entry.AccessIndex] = entry;
        if (op.IsCancelled)
        {
            ReleaseRemote(op, entry.AccessIndex, written: false, value: null);
            return;
        }
        // The holder touches the slot no more until we release it, so reading now or after a completion post is the same read.
        int holder = op.Holders[entry.AccessIndex];
        if (_memory.TryReadAtOnce(holder, entry.KeyId, out var contents)) OnGrantedValueRead(entry, contents);
        else _memory.Read(holder, entry.KeyId, Mailbox, _handlers.GrantedValueRead, entry);
    }

    private void OnGrantedValueRead(ChainEntry entry, SlotContents contents)
    {
        var op = entry.Operation!;
        if (contents.Flag != Id) throw new InvalidOperationException($"worker {Id}: read key {entry.KeyId} at {op.Holders[entry.AccessIndex]} after a grant, but the flag is {contents.Flag}");
        op.Values[entry.AccessIndex] = contents.Value;
        (op.RemoteHeld ??= new bool[op.Accesses.Length])[entry.AccessIndex] = true;
        if (op.IsCancelled) ReleaseRemote(op, entry.AccessIndex, written: false, value: null);
        else AcquiredKey(op);
    }

    /// <summary>Gives a remote key back: the new value first (if written), the flag last, then a notice to the holder.</summary>
    private void ReleaseRemote(Operation op, int access, bool written, byte[]? value)
    {
        if (op.RemoteHeld is { } held) held[access] = false;
        var entry = op.RemoteEntries![access]!;
        int holder = op.Holders[access];
        op.Request.ReleasesInFlight++;
        entry.Release = new ReleaseNotice(written, Tentative: false, Aborted: false);
        if (written) _memory.WriteValueThenFlag(holder, entry.KeyId, value, holder, Mailbox, _handlers.ReleaseLanded, entry);
        else _memory.WriteFlag(holder, entry.KeyId, holder, Mailbox, _handlers.ReleaseLanded, entry);
    }

    /// <summary>The value and the flag are back at the holder: tell it how to treat the write, now that more of the outcome may be known.</summary>
    private void OnReleaseLanded(ChainEntry entry)
    {
        var op = entry.Operation!;
        var request = op.Request;
        int holder = op.Holders[entry.AccessIndex];
        bool written = entry.Release.Written;
        bool tentative = written && HoldsWrites(request);
        if (written && !tentative && request.Outcome is null) request.ExposedBeforeOutcome = true;
        bool aborted = written && request.Outcome is WorkflowStatus.Aborted or WorkflowStatus.Failed;
        if (tentative) (request.RemoteTentative ??= []).Add((holder, entry.KeyId));
        entry.Release = new ReleaseNotice(written, tentative, aborted);
        var target = _peers[holder];
        _network.Send(Mailbox, target.Mailbox, target._handlers.Released, entry);
        if (--request.ReleasesInFlight == 0 && request.RemoteOutcomeDue) SendRemoteOutcome(request);
        KeyReleased(op);
    }

    // ---- the holder's side ---------------------------------------------------------------------------

    /// <summary>The requester gave the flag back. Keep the old value aside while its workflow's outcome is pending.</summary>
    private void OnReleased(ChainEntry entry)
    {
        var (written, tentative, aborted) = entry.Release;
        var key = KeyOf(entry.KeyId);
        var slot = Region[key.Id];
        if (slot.Flag != Id) throw new InvalidOperationException($"worker {Id}: release of {entry} but the flag is {slot.Flag}");
        if (written)
        {
            MarkDirty(key, entry.Batch);
            if (aborted)
            {
                if (key.TentativeTs == entry.Ts) ResolveTentative(key, entry.Ts, committed: false);
                else slot.WriteValue(entry.BeforeImage);
            }
            else if (tentative) SetTentative(key, entry.Ts, entry.Batch, entry.BeforeImage);
        }
        PopAndRetire(key, entry);
        Pump(key);
    }

    /// <summary>The outcome of a workflow whose writes to our keys were pending.</summary>
    public void OnOutcome(long ts, bool committed, int[] keyIds)
    {
        foreach (int id in keyIds) ResolveTentative(KeyOf(id), ts, committed);
    }

    private void SetTentative(KeyState key, long ts, long batch, byte[]? beforeImage)
    {
        if (key.TentativeTs == ts) return; // the workflow wrote here before: keep the value from before it
        if (key.TentativeTs >= 0) throw new InvalidOperationException($"worker {Id}: key {key.Id} has two pending outcomes ({key.TentativeTs}, {ts})");
        _counters.OutcomeBarrier();
        key.TentativeTs = ts;
        key.TentativeBatch = batch;
        key.BeforeImage = beforeImage;
        _batches[batch].Open++;
    }

    private void ResolveTentative(KeyState key, long ts, bool committed)
    {
        if (key.TentativeTs != ts) return;
        if (!committed) Region[key.Id].WriteValue(key.BeforeImage);
        key.TentativeTs = -1;
        key.BeforeImage = null;
        Retire(key.TentativeBatch);
        Pump(key);
    }

    // ---- values at batch boundaries ------------------------------------------------------------------

    private void MarkDirty(KeyState key, long batch)
    {
        if (key.DirtyBatch == batch) return;
        key.DirtyBatch = batch;
        key.Snapshotted = false;
        _batches[batch].Dirty.Add(key.Id);
    }

    /// <summary>The first entry of a later batch is about to start: capture the value the earlier batch left.</summary>
    private void EnterBatch(KeyState key, long batch)
    {
        if (key.DirtyBatch != 0 && key.DirtyBatch < batch && !key.Snapshotted)
        {
            if (_batches.TryGetValue(key.DirtyBatch, out var dirty) && !dirty.Reported)
                dirty.Snapshots[key.Id] = Region[key.Id].Read().Value;
            key.Snapshotted = true;
        }
        key.Batch = batch;
    }

    private List<KeyValuePair<StateKey, byte[]?>> LeaseWriteSet(BatchState batch)
    {
        var writes = new List<KeyValuePair<StateKey, byte[]?>>(batch.Dirty.Count);
        foreach (int id in batch.Dirty)
        {
            var key = KeyOf(id);
            if (!batch.Snapshots.TryGetValue(id, out var value))
            {
                value = Region[id].Read().Value;
                if (key.DirtyBatch == batch.Id) key.Snapshotted = true;
            }
            writes.Add(new(key.Key, value));
        }
        return writes;
    }
}
