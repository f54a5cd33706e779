using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Storage;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Runtime.Serializable.Worker.NoCC;

/// <summary>
/// No concurrency control: the same routing, lease table, single cached copy, remote reads and writes
/// and parametric edges as the lease protocol, with the per-key ordering removed — no chains, no
/// virtual vertices, no flag hand-shake, no outcome barrier. Unsafe by design: the upper bound that
/// shows what the protocol costs. An abort puts old values back blindly, clobbering whatever ran since.
/// </summary>
internal sealed class NoCCProtocol(ClusterWorker worker, Endpoint endpoint, IOneSided memory, IStateStore store,
    ClusterCounters counters, Generation generation)
    : WorkerProtocolBase(worker, endpoint, memory, store, counters, generation), IWorkerProtocol
{
    private static readonly TimeSpan RetryAfter = TimeSpan.FromMicroseconds(20);

    /// <summary>NoCC's one message between workers; false for any other.</summary>
    public bool Receive(Message message)
    {
        if (message is not PeerExecutedMsg executed) return false;
        _worker.BatchOf(executed.Batch).PeersDone++;
        _worker.TryReport();
        return true;
    }

    public void Plan(PlanMsg plan, BatchState batch)
    {
        foreach (var lease in plan.Leases)
        {
            _worker.SetHolder(lease.KeyId, lease.Holder);
            if (lease.Holder != Id || lease.PreviousHolder == Id) continue;
            var key = _worker.KeyOf(lease.KeyId, lease.Key);
            key.ValueReady = false;
            if (lease.PreviousHolder >= 0) _counters.LeaseTransferred();
            Load(key, lease.PreviousHolder);
        }
        var ops = new List<Operation>();
        foreach (var run in batch.Runs)
        {
            batch.Open++;
            ops.AddRange(_worker.BuildOperations(run));
        }
        batch.IsOpen = true;
        foreach (var op in ops) _worker.TryDispatch(op);
        if (batch.Open == 0) SelfDone(batch);
    }

    /// <summary>Takes the value from the store, or with a one-sided read from the previous holder's slot (retried until that slot is filled).</summary>
    private void Load(KeyState key, int previous)
    {
        if (previous < 0)
        {
            _generation.Call(() => _store.ReadCommittedAsync(key.Key), Mailbox, value => Loaded(key, value),
                e => _worker.ReportStoreFailure($"worker {Id} could not load {key.Key} from the {_store.Name} store: {e.Message}"));
            return;
        }
        _memory.Read(RegionOf(previous), key.Id, Mailbox, contents =>
        {
            if (contents.Flag == RegionMemory.NoOwner) Mailbox.PostAfter(RetryAfter, () => Load(key, previous));
            else Loaded(key, contents.Value);
        });
    }

    private void Loaded(KeyState key, byte[]? value)
    {
        Region.WriteValueThenFlag(key.Id, value, Id);
        key.ValueReady = true;
        if (key.Waiters is { } waiters)
        {
            key.Waiters = null;
            foreach (var w in waiters) w();
        }
    }

    /// <summary>An operation reads every key's value before it runs: the first call starts the fetch, which dispatches it again when done.</summary>
    public bool PrepareDispatch(Operation op)
    {
        if (op.Fetching) return true;
        op.Fetching = true;
        Fetch(op);
        return false;
    }

    private void Fetch(Operation op)
    {
        for (int a = 0; a < op.Accesses.Length; a++) FetchOne(op, a);
        if (op.Accesses.Length == 0) _worker.TryDispatch(op);
    }

    private void FetchOne(Operation op, int a)
    {
        int keyId = op.Accesses[a].KeyId;
        int holder = op.Holders[a];
        if (holder == Id)
        {
            var key = _worker.KeyOf(keyId);
            if (!key.ValueReady)
            {
                (key.Waiters ??= []).Add(() => FetchOne(op, a));
                return;
            }
            op.Values[a] = Region.Read(keyId).Value;
            _worker.AcquiredKey(op);
            return;
        }
        _memory.Read(RegionOf(holder), keyId, Mailbox, contents =>
        {
            if (contents.Flag == RegionMemory.NoOwner)
            {
                Mailbox.PostAfter(RetryAfter, () => FetchOne(op, a));
                return;
            }
            op.Values[a] = contents.Value;
            _worker.AcquiredKey(op);
        });
    }

    public void Release(Operation op, WriteSet? writes)
    {
        var run = op.Run;
        for (int a = 0; a < op.Accesses.Length; a++)
        {
            if (writes is null || !writes.Written[a])
            {
                _worker.KeyReleased(op);
                continue;
            }
            int keyId = op.Accesses[a].KeyId;
            int holder = op.Holders[a];
            if (run.Outcome is null) (run.Undo ??= []).Add((holder, keyId, op.Values[a]));
            Write(holder, keyId, writes.Values[a], () => _worker.KeyReleased(op));
        }
    }

    private void Write(int holder, int keyId, byte[]? value, Action done)
    {
        if (holder == Id)
        {
            Region.WriteValue(keyId, value);
            done();
        }
        else _memory.WriteValue(RegionOf(holder), keyId, value, Mailbox, done);
    }

    public void Cancel(Operation op)
    {
        for (int a = 0; a < op.Accesses.Length; a++) _worker.KeyReleased(op);
    }

    /// <summary>An aborted workflow's writes are undone blindly, newest first.</summary>
    public void OnResolved(WorkflowRun run, bool committed)
    {
        if (run.Undo is not { } undo) return;
        run.Undo = null;
        if (committed) return;
        for (int i = undo.Count - 1; i >= 0; i--) Write(undo[i].Holder, undo[i].KeyId, undo[i].Before, static () => { });
    }

    public void OnRequestDone(WorkflowRun run)
    {
        var batch = _worker.Batch(run.Batch);
        if (batch.Open == 0) SelfDone(batch);
    }

    /// <summary>Every run of the batch routed here is done: tell the peers, whose write-back waits for everyone's remote writes.</summary>
    private void SelfDone(BatchState batch)
    {
        if (batch.SelfDone) return;
        batch.SelfDone = true;
        for (int p = 0; p < _workers; p++)
            if (p != Id) _endpoint.Send(NodeId.Worker(p), new PeerExecutedMsg(batch.Id));
        _worker.TryReport();
    }

    public bool IsFinished(BatchState batch) => batch.SelfDone && batch.PeersDone == _workers - 1;

    /// <summary>NoCC writes back what it holds of what the batch declared it writes, as it stands now.</summary>
    public List<KeyValuePair<StateKey, byte[]?>> WriteSet(BatchState batch)
    {
        var writes = new List<KeyValuePair<StateKey, byte[]?>>();
        foreach (var lease in batch.Plan!.Leases)
            if (lease.Written && lease.Holder == Id)
                writes.Add(new(lease.Key, Region.Read(lease.KeyId).Value));
        return writes;
    }
}
