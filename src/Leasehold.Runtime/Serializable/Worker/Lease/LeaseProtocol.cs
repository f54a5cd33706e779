using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Storage;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Runtime.Serializable.Worker.Lease;

/// <summary>
/// The lease protocol (§4–§6): per-key chains ordered by (ts, position), virtual vertices for other
/// workers' operations, the flag hand-shake over one-sided operations, lease hand-over between batches,
/// and the outcome barrier that keeps a workflow's writes from later workflows until it is decided.
/// This file holds batch intake; the chains are in LeaseProtocol.Chains.cs, remote accesses in
/// LeaseProtocol.RemoteAccess.cs, the outcome barrier in LeaseProtocol.Outcome.cs and the values a batch
/// writes back in LeaseProtocol.WriteBack.cs.
/// </summary>
internal sealed partial class LeaseProtocol : WorkerProtocolBase, IWorkerProtocol
{
    private readonly ClusterOptions _options;
    private readonly Handlers _handlers;

    public LeaseProtocol(ClusterWorker worker, ClusterOptions options, Endpoint endpoint, IOneSided memory,
        IStateStore store, ClusterCounters counters, Generation generation)
        : base(worker, endpoint, memory, store, counters, generation)
    {
        _options = options;
        _handlers = new Handlers(this);
    }

    /// <summary>The lease protocol's messages between workers; false for any other.</summary>
    public bool Receive(Message message)
    {
        switch (message)
        {
            case RecordsMsg records: OnRecords(records); return true;
            case GrantMsg grant: OnGrant(grant); return true;
            case ReleasedMsg released: OnReleased(released); return true;
            case HandedOverMsg handedOver: OnHandedOver(handedOver.KeyId); return true;
            case OutcomeMsg outcome: OnOutcome(outcome); return true;
            default: return false;
        }
    }

    public void Plan(PlanMsg plan, BatchState batch)
    {
        foreach (var lease in plan.Leases)
        {
            if (lease.Holder != lease.PreviousHolder)
            {
                if (lease.PreviousHolder == Id) AddTransition(batch, plan, lease, EntryKind.HandoverOut, lease.Holder);
                else if (lease.Holder == Id) AddTransition(batch, plan, lease, EntryKind.AwaitIn, lease.PreviousHolder);
            }
            _worker.SetHolder(lease.KeyId, lease.Holder);
        }

        var records = new List<VirtualVertex>?[_workers];
        foreach (var run in batch.Runs)
        {
            batch.Open++;
            foreach (var op in _worker.BuildOperations(run))
            {
                for (int a = 0; a < op.Accesses.Length; a++)
                {
                    var access = op.Accesses[a];
                    int holder = op.Holders[a];
                    if (holder == Id)
                    {
                        var entry = new ChainEntry(EntryKind.Local, op.Ts, op.Position, plan.Batch, access.KeyId) { Operation = op, AccessIndex = a, Peer = Id };
                        op.LocalEntries ??= new ChainEntry?[op.Accesses.Length];
                        op.LocalEntries[a] = entry;
                        Insert(batch, _worker.KeyOf(access.KeyId, access.Key), entry);
                    }
                    else
                    {
                        (op.RemoteAccesses ??= new RemoteAccess?[op.Accesses.Length])[a] = new RemoteAccess(op, a);
                        (records[holder] ??= []).Add(new VirtualVertex(access.KeyId, access.Key, op.Ts, op.Position, a));
                    }
                }
            }
        }

        // One message per peer per batch: its records, which is also the end-of-batch marker.
        for (int p = 0; p < _workers; p++)
            if (p != Id) _endpoint.Send(NodeId.Worker(p), new RecordsMsg(plan.Batch, records[p]?.ToArray() ?? []));
        MaybeOpen(batch);
        foreach (var run in batch.Runs)
            foreach (var op in run.Operations)
                if (op.Accesses.Length == 0) _worker.TryDispatch(op);
    }

    private void AddTransition(BatchState batch, PlanMsg plan, LeaseEntry lease, EntryKind kind, int peer)
    {
        var entry = new ChainEntry(kind, plan.FirstTs, -1, plan.Batch, lease.KeyId) { Peer = peer };
        Insert(batch, _worker.KeyOf(lease.KeyId, lease.Key), entry);
    }

    private static void Insert(BatchState batch, KeyState key, ChainEntry entry)
    {
        key.Chain.Insert(entry);
        batch.Open++;
        batch.Keys.Add(key.Id);
    }

    /// <summary>A peer's virtual vertices for batch b, and its end-of-batch marker. This worker builds its own chain entries from them.</summary>
    private void OnRecords(RecordsMsg records)
    {
        var batch = _worker.BatchOf(records.Batch);
        if (batch.IsOpen) throw new InvalidOperationException($"worker {Id}: records for batch {records.Batch} after it opened");
        int peer = records.From.Index;
        foreach (var v in records.Vertices)
            Insert(batch, _worker.KeyOf(v.KeyId, v.Key), new ChainEntry(EntryKind.Virtual, v.Ts, v.Position, records.Batch, v.KeyId) { AccessIndex = v.AccessIndex, Peer = peer });
        batch.Markers++;
        MaybeOpen(batch);
    }

    /// <summary>A batch opens once it is planned here and every peer's records are in: no late record can land behind a started operation.</summary>
    private void MaybeOpen(BatchState batch)
    {
        if (batch.IsOpen || batch.Plan is null || batch.Markers < _workers - 1) return;
        batch.IsOpen = true;
        foreach (int key in batch.Keys) Pump(_worker.KeyOf(key));
        if (batch.Open == 0) _worker.TryReport();
    }

    private bool IsOpen(long batchId) => _worker.TryGetBatch(batchId, out var b) && b.IsOpen;

    /// <summary>Keys are acquired through the chains, which start the operation when its last one arrives.</summary>
    public bool PrepareDispatch(Operation op) => true;

    public void OnRequestDone(WorkflowRun run) { }

    /// <summary>Every chain entry, run and pending outcome of the batch here has retired.</summary>
    public bool IsFinished(BatchState batch) => batch.IsOpen && batch.Open == 0;
}
