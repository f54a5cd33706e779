using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Runtime.Serializable.Worker.Lease;

/// <summary>
/// An operation's access to a key another worker holds: the holder grants it by setting the flag and
/// saying so, the requester reads flag and value with one one-sided read, and gives the key back by
/// writing the new value, then the flag, then a notice the holder acts on. Both sides name the access by
/// (key, ts, position); each keeps its own state for it.
/// </summary>
internal sealed partial class LeaseProtocol
{
    /// <summary>
    /// The one-sided completions, bound once: the remote-access path passes its <see cref="RemoteAccess"/> as
    /// their state, so a one-sided read or write allocates no closure or delegate.
    /// </summary>
    private sealed class Handlers(LeaseProtocol protocol)
    {
        public readonly Action<object, SlotSnapshot> GrantedValueRead = (access, contents) => protocol.OnGrantedValueRead((RemoteAccess)access, contents);
        public readonly Action<object> ReleaseLanded = access => protocol.OnReleaseLanded((RemoteAccess)access);
    }

    // ---- the requester's side ------------------------------------------------------------------------

    /// <summary>The leaseholder set the flag for us: read flag and value with one one-sided read, or give the flag back if the operation was cancelled.</summary>
    private void OnGrant(GrantMsg grant)
    {
        var op = _worker.OperationAt(grant.Ts, grant.Position);
        var access = (uint)grant.AccessIndex < (uint)op.Accesses.Length ? op.RemoteAccesses?[grant.AccessIndex] : null;
        if (access is null || access.KeyId != grant.KeyId || access.Holder != grant.From.Index)
            throw new InvalidOperationException($"worker {Id}: {grant.From} granted key {grant.KeyId} to {op}, which does not access it there");
        if (op.IsCancelled)
        {
            ReleaseRemote(access, written: false, value: null);
            return;
        }
        // The holder touches the slot no more until we release it, so reading now or after a completion post is the same read.
        var holder = RegionOf(access.Holder);
        if (_memory.TryReadAtOnce(holder, access.KeyId, out var contents)) OnGrantedValueRead(access, contents);
        else _memory.Read(holder, access.KeyId, Mailbox, _handlers.GrantedValueRead, access);
    }

    private void OnGrantedValueRead(RemoteAccess access, SlotSnapshot contents)
    {
        var op = access.Operation;
        if (contents.Flag != Id) throw new InvalidOperationException($"worker {Id}: read key {access.KeyId} at {access.Holder} after a grant, but the flag is {contents.Flag}");
        op.Values[access.Access] = contents.Value;
        (op.RemoteHeld ??= new bool[op.Accesses.Length])[access.Access] = true;
        if (op.IsCancelled) ReleaseRemote(access, written: false, value: null);
        else _worker.AcquiredKey(op);
    }

    private void ReleaseRemote(Operation op, int access, bool written, byte[]? value) => ReleaseRemote(op.RemoteAccesses![access]!, written, value);

    /// <summary>Gives a remote key back: the new value first (if written), the flag last, then a notice to the holder.</summary>
    private void ReleaseRemote(RemoteAccess access, bool written, byte[]? value)
    {
        var op = access.Operation;
        if (op.RemoteHeld is { } held) held[access.Access] = false;
        int holder = access.Holder;
        op.Run.ReleasesInFlight++;
        access.Written = written;
        if (written) _memory.WriteValueThenFlag(RegionOf(holder), access.KeyId, value, holder, Mailbox, _handlers.ReleaseLanded, access);
        else _memory.WriteFlag(RegionOf(holder), access.KeyId, holder, Mailbox, _handlers.ReleaseLanded, access);
    }

    /// <summary>The value and the flag are back at the holder: tell it how to treat the write, now that more of the outcome may be known.</summary>
    private void OnReleaseLanded(RemoteAccess access)
    {
        var op = access.Operation;
        var run = op.Run;
        int holder = access.Holder;
        bool written = access.Written;
        bool tentative = written && HoldsWrites(run);
        if (written && !tentative && run.Outcome is null) run.ExposedBeforeOutcome = true;
        bool aborted = written && run.Outcome is WorkflowStatus.Aborted or WorkflowStatus.Failed;
        if (tentative) (run.RemoteTentative ??= []).Add((holder, access.KeyId));
        _endpoint.Send(NodeId.Worker(holder), new ReleasedMsg(access.KeyId, op.Ts, op.Position, new ReleaseNotice(written, tentative, aborted)));
        if (--run.ReleasesInFlight == 0 && run.RemoteOutcomeDue) SendRemoteOutcome(run);
        _worker.KeyReleased(op);
    }

    // ---- the holder's side ---------------------------------------------------------------------------

    /// <summary>The requester gave the flag back. Keep the old value aside while its workflow's outcome is pending.</summary>
    private void OnReleased(ReleasedMsg released)
    {
        var (written, tentative, aborted) = released.Notice;
        var key = _worker.KeyOf(released.KeyId);
        // Only the granted head can be released: the flag named its requester, and nothing behind it has started.
        var entry = key.Chain.Head;
        if (entry is not { Kind: EntryKind.Virtual, Active: true } || entry.Ts != released.Ts || entry.Position != released.Position || entry.Peer != released.From.Index)
            throw new InvalidOperationException($"worker {Id}: {released.From} released key {key.Id} for ({released.Ts}, {released.Position}), but the chain's head is {entry?.ToString() ?? "nothing"}");
        int flag = Region.Flag(key.Id);
        if (flag != Id) throw new InvalidOperationException($"worker {Id}: release of {entry} but the flag is {flag}");
        if (written)
        {
            MarkDirty(key, entry.Batch);
            if (aborted)
            {
                if (key.TentativeTs == entry.Ts) ResolveTentative(key, entry.Ts, committed: false);
                else Region.WriteValue(key.Id, entry.BeforeImage);
            }
            else if (tentative) SetTentative(key, entry.Ts, entry.Batch, entry.BeforeImage);
        }
        PopAndRetire(key, entry);
        Pump(key);
    }
}
