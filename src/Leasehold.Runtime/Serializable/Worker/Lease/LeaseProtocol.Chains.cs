using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Serializable.Worker.Lease;

/// <summary>
/// The per-key chains: what starts at a chain's head (a local operation, a grant to another worker's,
/// a hand-over, a load), and how an operation that ends or is cancelled gives its keys back.
/// </summary>
internal sealed partial class LeaseProtocol
{
    /// <summary>Starts whatever can start at the head of a key's chain.</summary>
    private void Pump(KeyState key)
    {
        while (key.Chain.Head is { } head)
        {
            if (head.Active || !IsOpen(head.Batch)) return;
            if (head.Kind == EntryKind.Local && head.Operation!.IsCancelled)
            {
                PopAndRetire(key, head);
                _worker.KeyReleased(head.Operation);
                continue;
            }
            if (key.TentativeTs >= 0 && key.TentativeTs != head.Ts) return; // a workflow's outcome is pending
            if (head.Kind != EntryKind.AwaitIn && !key.ValueReady) return;
            if (head.Batch > key.Batch) EnterBatch(key, head.Batch);
            switch (head.Kind)
            {
                case EntryKind.Local:
                    head.Active = true;
                    head.Operation!.Values[head.AccessIndex] = Region.Read(key.Id).Value;
                    _worker.AcquiredKey(head.Operation);
                    return;
                case EntryKind.Virtual:
                    int granting = Region.Flag(key.Id);
                    if (granting != Id) throw new InvalidOperationException($"worker {Id}: granting {head} but the flag is {granting}");
                    Grant(head);
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
                    int arrived = Region.Flag(key.Id);
                    if (arrived != Id) throw new InvalidOperationException($"worker {Id}: hand-over of key {key.Id} arrived but the flag is {arrived}");
                    key.ValueReady = true;
                    PopAndRetire(key, head);
                    continue;
            }
        }
    }

    /// <summary>Lets another worker's operation at the head touch the key: the flag names it, and it hears so.</summary>
    private void Grant(ChainEntry granted)
    {
        granted.Active = true;
        granted.BeforeImage = Region.Read(granted.KeyId).Value;
        Region.WriteFlag(granted.KeyId, granted.Peer);
        _endpoint.Send(NodeId.Worker(granted.Peer), new GrantMsg(granted.KeyId, granted.Ts, granted.Position, granted.AccessIndex));
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
            Region.WriteValueThenFlag(key.Id, value, Id);
            key.ValueReady = true;
            PopAndRetire(key, loading);
            Pump(key);
        }, e => _worker.ReportStoreFailure($"worker {Id} could not load {key.Key} from the {_store.Name} store: {e.Message}"));
    }

    private void PopAndRetire(KeyState key, ChainEntry entry)
    {
        key.Chain.PopHead(entry);
        _worker.Retire(entry.Batch);
    }

    /// <summary>The old holder's last operation of earlier batches is done: value into the new holder's slot, then its flag, then a notice.</summary>
    private void HandOver(KeyState key, ChainEntry entry)
    {
        var value = Region.Read(key.Id).Value;
        key.ValueReady = false;
        Region.WriteFlag(key.Id, entry.Peer);
        PopAndRetire(key, entry);
        _counters.LeaseTransferred();
        SendHandOver(key.Id, entry.Peer, value);
    }

    // Its own method: the lambda captures the parameters, and inside HandOver its closure would be built on every call.
    private void SendHandOver(int keyId, int target, byte[]? value) =>
        _memory.WriteValueThenFlag(RegionOf(target), keyId, value, target, Mailbox,
            () => _endpoint.Send(NodeId.Worker(target), new HandedOverMsg(keyId)));

    private void OnHandedOver(int keyId)
    {
        var key = _worker.KeyOf(keyId);
        key.ArrivalsPending++;
        Pump(key);
    }

    public void Release(Operation op, WriteSet? writes)
    {
        var run = op.Run;
        // Both sides of one rule: the registration-time analysis and the run-time outcome must agree on which writes wait.
        bool hold = HoldsWrites(run);
        if (writes is not null && hold && run.PendingFailure is null && !op.Function.WritesWait(_options.WriteGating))
            throw new InvalidOperationException($"worker {Id}: {op} writes before its workflow is decided, but registration said its writes never wait");
        for (int a = 0; a < op.Accesses.Length; a++)
        {
            bool written = writes is not null && writes.Written[a];
            byte[]? value = written ? writes!.Values[a] : null;
            if (op.Holders[a] == Id)
            {
                var key = _worker.KeyOf(op.Accesses[a].KeyId);
                var entry = op.LocalEntries![a]!;
                if (written)
                {
                    if (hold) SetLocalTentative(key, run, entry.Batch);
                    else if (run.Outcome is null) run.ExposedBeforeOutcome = true;
                    MarkDirty(key, entry.Batch);
                    Region.WriteValue(key.Id, value);
                }
                PopAndRetire(key, entry);
                _worker.KeyReleased(op);
                Pump(key);
            }
            else if (op.RemoteHeld?[a] == true) ReleaseRemote(op, a, written, value);
        }
    }

    /// <summary>Gives back what a cancelled operation holds; its entries not yet started are dropped as they reach their chains' heads.</summary>
    public void Cancel(Operation op)
    {
        for (int a = 0; a < op.Accesses.Length; a++)
        {
            if (op.Holders[a] == Id)
            {
                var entry = op.LocalEntries![a]!;
                var key = _worker.KeyOf(entry.KeyId);
                if (entry.Active)
                {
                    PopAndRetire(key, entry);
                    _worker.KeyReleased(op);
                }
                Pump(key); // an inactive entry is dropped when it reaches the head
            }
            else if (op.RemoteHeld?[a] == true) ReleaseRemote(op, a, written: false, value: null);
            // a remote access not yet granted is given back when its grant arrives
        }
    }
}
