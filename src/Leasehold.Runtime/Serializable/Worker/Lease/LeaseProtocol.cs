using Leasehold.Runtime.Storage;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Serializable.Worker.Lease;

/// <summary>
/// The lease protocol (§4–§6): per-key chains ordered by (ts, position), virtual vertices for other
/// workers' operations, the flag hand-shake over one-sided operations, lease hand-over between batches,
/// and the outcome barrier that keeps a workflow's writes from later workflows until it is decided.
/// This file holds batch intake; the chains are in LeaseProtocol.Chains.cs, remote accesses in
/// LeaseProtocol.RemoteAccess.cs, the outcome barrier in LeaseProtocol.Outcome.cs and the values a batch
/// writes back in LeaseProtocol.WriteBack.cs.
/// </summary>
internal sealed partial class LeaseProtocol : WorkerProtocolBase<LeaseProtocol>, IWorkerProtocol
{
    private readonly ClusterOptions _options;
    private readonly Handlers _handlers;

    public LeaseProtocol(ClusterWorker worker, ClusterOptions options, Network network, RemoteMemory memory,
        IStateStore store, ClusterCounters counters, Generation generation)
        : base(worker, network, memory, store, counters, generation)
    {
        _options = options;
        _handlers = new Handlers(this);
    }

    public void Plan(BatchPlan plan, BatchState batch)
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

        var records = new List<ChainEntry>?[_peers.Length];
        foreach (var request in plan.Requests)
        {
            batch.Open++;
            foreach (var op in _worker.BuildOperations(request))
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
                        Insert(batch, _worker.KeyOf(access.KeyId, access.Key), entry);
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
                if (op.Accesses.Length == 0) _worker.TryDispatch(op);
    }

    private void AddTransition(BatchState batch, BatchPlan plan, LeaseEntry lease, EntryKind kind, int peer)
    {
        var entry = new ChainEntry(kind, plan.FirstTs, -1, plan.Id, lease.KeyId) { Peer = peer };
        Insert(batch, _worker.KeyOf(lease.KeyId, lease.Key), entry);
    }

    private static void Insert(BatchState batch, KeyState key, ChainEntry entry)
    {
        key.Chain.Insert(entry);
        batch.Open++;
        batch.Keys.Add(key.Id);
    }

    /// <summary>A peer's virtual vertices for batch b, and its end-of-batch marker.</summary>
    public void OnRecords(long batchId, ChainEntry[] records)
    {
        var batch = _worker.BatchOf(batchId);
        if (batch.IsOpen) throw new InvalidOperationException($"worker {Id}: records for batch {batchId} after it opened");
        foreach (var record in records)
        {
            var access = record.Operation!.Accesses[record.AccessIndex];
            Insert(batch, _worker.KeyOf(access.KeyId, access.Key), record);
        }
        batch.Markers++;
        MaybeOpen(batch);
    }

    /// <summary>A batch opens once it is planned here and every peer's records are in: no late record can land behind a started operation.</summary>
    private void MaybeOpen(BatchState batch)
    {
        if (batch.IsOpen || batch.Plan is null || batch.Markers < _peers.Length - 1) return;
        batch.IsOpen = true;
        foreach (int key in batch.Keys) Pump(_worker.KeyOf(key));
        if (batch.Open == 0) _worker.TryReport();
    }

    private bool IsOpen(long batchId) => _worker.TryGetBatch(batchId, out var b) && b.IsOpen;

    /// <summary>Keys are acquired through the chains, which start the operation when its last one arrives.</summary>
    public bool PrepareDispatch(Operation op) => true;

    public void OnRequestDone(Request request) { }

    /// <summary>Every chain entry, request and pending outcome of the batch here has retired.</summary>
    public bool IsFinished(BatchState batch) => batch.IsOpen && batch.Open == 0;
}
