using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Serializable.Worker;

/// <summary>
/// No concurrency control: the same routing, lease table, single cached copy, remote reads and writes
/// and parametric edges as the lease protocol, with the per-key ordering removed — no chains, no
/// virtual vertices, no flag hand-shake, no outcome barrier. Unsafe by design: the upper bound that
/// shows what the protocol costs. An abort puts old values back blindly, clobbering whatever ran since.
/// </summary>
internal sealed partial class ClusterWorker
{
    private static readonly TimeSpan NoCCRetry = TimeSpan.FromMicroseconds(20);

    private void PlanNoCC(BatchPlan plan, BatchState batch)
    {
        foreach (var lease in plan.Leases)
        {
            SetHolder(lease.KeyId, lease.Holder);
            if (lease.Holder != Id || lease.PreviousHolder == Id) continue;
            var key = KeyOf(lease.KeyId, lease.Key);
            key.ValueReady = false;
            if (lease.PreviousHolder >= 0) _counters.LeaseTransferred();
            NoCCLoad(key, lease.PreviousHolder);
        }
        var ops = new List<Operation>();
        foreach (var request in plan.Requests)
        {
            batch.Open++;
            ops.AddRange(BuildOperations(request));
        }
        batch.IsOpen = true;
        foreach (var op in ops) TryDispatch(op);
        if (batch.Open == 0) NoCCSelfDone(batch);
    }

    /// <summary>Takes the value from the store, or with a one-sided read from the previous holder's slot (retried until that slot is filled).</summary>
    private void NoCCLoad(KeyState key, int previous)
    {
        if (previous < 0)
        {
            _generation.Call(() => _store.ReadCommittedAsync(key.Key), Mailbox, value => NoCCLoaded(key, value),
                e => ReportStoreFailure($"worker {Id} could not load {key.Key} from the {_store.Name} store: {e.Message}"));
            return;
        }
        _memory.Read(previous, key.Id, Mailbox, contents =>
        {
            if (contents.Flag == Slot.NoOwner) Mailbox.PostAfter(NoCCRetry, () => NoCCLoad(key, previous));
            else NoCCLoaded(key, contents.Value);
        });
    }

    private void NoCCLoaded(KeyState key, byte[]? value)
    {
        Region[key.Id].WriteValueThenFlag(value, Id);
        key.ValueReady = true;
        if (key.Waiters is { } waiters)
        {
            key.Waiters = null;
            foreach (var w in waiters) w();
        }
    }

    private void NoCCFetch(Operation op)
    {
        for (int a = 0; a < op.Accesses.Length; a++) NoCCFetchOne(op, a);
        if (op.Accesses.Length == 0) TryDispatch(op);
    }

    private void NoCCFetchOne(Operation op, int a)
    {
        int keyId = op.Accesses[a].KeyId;
        int holder = op.Holders[a];
        if (holder == Id)
        {
            var key = KeyOf(keyId);
            if (!key.ValueReady)
            {
                (key.Waiters ??= []).Add(() => NoCCFetchOne(op, a));
                return;
            }
            op.Values[a] = Region[keyId].Read().Value;
            AcquiredKey(op);
            return;
        }
        _memory.Read(holder, keyId, Mailbox, contents =>
        {
            if (contents.Flag == Slot.NoOwner)
            {
                Mailbox.PostAfter(NoCCRetry, () => NoCCFetchOne(op, a));
                return;
            }
            op.Values[a] = contents.Value;
            AcquiredKey(op);
        });
    }

    private void NoCCRelease(Operation op, WriteSet? writes)
    {
        var request = op.Request;
        for (int a = 0; a < op.Accesses.Length; a++)
        {
            if (writes is null || !writes.Written[a])
            {
                KeyReleased(op);
                continue;
            }
            int keyId = op.Accesses[a].KeyId;
            int holder = op.Holders[a];
            if (request.Outcome is null) (request.Undo ??= []).Add((holder, keyId, op.Values[a]));
            NoCCWrite(holder, keyId, writes.Values[a], () => KeyReleased(op));
        }
    }

    private void NoCCWrite(int holder, int keyId, byte[]? value, Action done)
    {
        if (holder == Id)
        {
            Region[keyId].WriteValue(value);
            done();
        }
        else _memory.WriteValue(holder, keyId, value, Mailbox, done);
    }

    private void NoCCCancel(Operation op)
    {
        for (int a = 0; a < op.Accesses.Length; a++) KeyReleased(op);
    }

    private void NoCCResolve(Request request, bool committed)
    {
        if (IsLease || request.Undo is not { } undo) return;
        request.Undo = null;
        if (committed) return;
        for (int i = undo.Count - 1; i >= 0; i--) NoCCWrite(undo[i].Holder, undo[i].KeyId, undo[i].Before, static () => { });
    }

    private void NoCCRequestDone(Request request)
    {
        if (IsLease) return;
        var batch = _batches[request.Batch];
        if (batch.Open == 0) NoCCSelfDone(batch);
    }

    /// <summary>Every request of the batch routed here is done: tell the peers, whose write-back waits for everyone's remote writes.</summary>
    private void NoCCSelfDone(BatchState batch)
    {
        if (batch.SelfDone) return;
        batch.SelfDone = true;
        long id = batch.Id;
        for (int p = 0; p < _peers.Length; p++)
        {
            if (p == Id) continue;
            var peer = _peers[p];
            _network.Send(Mailbox, peer.Mailbox, () => peer.OnPeerExecuted(id));
        }
        TryReport();
    }

    public void OnPeerExecuted(long batchId)
    {
        BatchOf(batchId).PeersDone++;
        TryReport();
    }

    private bool NoCCFinished(BatchState batch) => batch.SelfDone && batch.PeersDone == _peers.Length - 1;

    /// <summary>NoCC writes back what it holds of what the batch declared it writes, as it stands now.</summary>
    private List<KeyValuePair<StateKey, byte[]?>> NoCCWriteSet(BatchState batch)
    {
        var writes = new List<KeyValuePair<StateKey, byte[]?>>();
        foreach (var lease in batch.Plan!.Leases)
            if (lease.Written && lease.Holder == Id)
                writes.Add(new(lease.Key, Region[lease.KeyId].Read().Value));
        return writes;
    }
}
