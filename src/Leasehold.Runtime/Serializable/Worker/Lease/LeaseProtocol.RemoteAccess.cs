using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Serializable.Worker.Lease;

/// <summary>
/// An operation's access to a key another worker holds: the holder grants it by setting the flag, the
/// requester reads flag and value with one one-sided read, and gives the key back by writing the new
/// value, then the flag, then a notice the holder acts on.
/// </summary>
internal sealed partial class LeaseProtocol
{
    /// <summary>
    /// The message handlers, bound once: the remote-access path posts its <see cref="ChainEntry"/> as
    /// their state, so a grant, a one-sided read or write and a release allocate no closure or delegate.
    /// </summary>
    private sealed class Handlers(LeaseProtocol protocol)
    {
        public readonly Action<object> Grant = entry => protocol.OnGrant((ChainEntry)entry);
        public readonly Action<object, SlotContents> GrantedValueRead = (entry, contents) => protocol.OnGrantedValueRead((ChainEntry)entry, contents);
        public readonly Action<object> ReleaseLanded = entry => protocol.OnReleaseLanded((ChainEntry)entry);
        public readonly Action<object> Released = entry => protocol.OnReleased((ChainEntry)entry);
    }

    // ---- the requester's side ------------------------------------------------------------------------

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
        else _worker.AcquiredKey(op);
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
        _worker.KeyReleased(op);
    }

    // ---- the holder's side ---------------------------------------------------------------------------

    /// <summary>The requester gave the flag back. Keep the old value aside while its workflow's outcome is pending.</summary>
    private void OnReleased(ChainEntry entry)
    {
        var (written, tentative, aborted) = entry.Release;
        var key = _worker.KeyOf(entry.KeyId);
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
}
