using System.Collections.Concurrent;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Runtime.Transport.Links;

/// <summary>
/// One-sided operations for a process of a multi-process cluster, over the links of its <see cref="LinkTransport"/>.
/// A region key names a worker (<see cref="RegionKey.Node"/>); the process hosting that worker in the cluster map
/// holds the region. On a key of this process an operation applies in place and posts its completion, as
/// <see cref="OneSidedMemory"/> does with no latency. On a key of another process the request travels as its
/// codec frame (kinds 64–69) with a fresh request id in the link sequence; the remote process serves it in its
/// network layer (the link's reader applies it to the registered region; no mailbox of the target runs) and
/// writes the completion, which echoes the id; the completion is posted to the requester's mailbox with its
/// handler and state. The key's incarnation fences as in <see cref="OneSidedMemory"/>: through a retired key an
/// operation lands unseen and reports success; through a dropped incarnation's it leads nowhere.
/// <para>
/// <b>Link loss.</b> An operation pending on a link that is lost never completes, and one issued to a fenced
/// link is dropped (counted): whether a compare-and-swap whose completion was lost swapped is unknown, so the
/// layer above fails its batch on <see cref="LinkTransport.LinkLost"/> instead of waiting or retrying.
/// </para>
/// <para>
/// A key never registered is a bug in the caller: locally it throws at issue (<see cref="UnknownRegionKeyException"/>);
/// remotely the serving process fences the link, naming the key.
/// </para>
/// </summary>
public sealed class LinkOneSided : IOneSided, IOneSidedLinkHandler
{
    private static readonly SlotSnapshot Empty = new(RegionMemory.NoOwner, null);
    private static readonly AckCompletion Ack = new();

    private readonly LinkTransport _links;
    private readonly RegionRegistry _regions = new();
    private readonly ConcurrentDictionary<PeerLink, ConcurrentDictionary<ulong, Pending>> _pending = new();
    private long _operations, _landedInRetired, _served, _dropped;

    public LinkOneSided(LinkTransport links)
    {
        _links = links ?? throw new ArgumentNullException(nameof(links));
        if (links.OneSided is not null) throw new InvalidOperationException($"the links of '{links.Self.Name}' carry one one-sided layer already");
        links.OneSided = this;
    }

    public TimeSpan OperationLatency => TimeSpan.Zero;
    public long Operations => Interlocked.Read(ref _operations);
    /// <summary>Operations that landed in a retired region of this process, issued here or served for a peer.</summary>
    public long LandedInRetired => Interlocked.Read(ref _landedInRetired);
    /// <summary>Requests from peers served by this process's readers.</summary>
    public long Served => Interlocked.Read(ref _served);
    /// <summary>Operations issued to a fenced link: dropped, never completed.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);
    /// <summary>Operations sent to peers and not completed yet (those of a lost link are forgotten).</summary>
    public int PendingOperations => _pending.Values.Sum(p => p.Count);

    public void Register(RegionKey key, IRegion region)
    {
        if (!IsLocal(key)) throw new InvalidOperationException($"{key} belongs to worker-{key.Node}, hosted by '{ProcessOf(key)}', not by '{_links.Self.Name}'");
        _regions.Register(key, region);
    }

    public void Retire(RegionKey key) => _regions.Find(key).Retire();
    public int RetireIncarnation(int incarnation) => _regions.RetireIncarnation(incarnation);
    public bool IsRetired(RegionKey key) => _regions.Find(key).Retired;
    public int DropIncarnation(int incarnation) => _regions.DropIncarnation(incarnation);
    public bool HoldsRegion(RegionKey key) => _regions.HoldsRegion(key);
    public int RegionCount => _regions.Count;

    private bool IsLocal(RegionKey key) => _links.IsLocal(NodeId.Worker(key.Node));
    private string ProcessOf(RegionKey key) => _links.Map.ProcessOf(NodeId.Worker(key.Node)).Name;

    public void Read(RegionKey key, int slot, Mailbox replyTo, Action<object, SlotSnapshot> onDone, object state)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        if (!IsLocal(key))
        {
            Issue(key, new ReadRequest(key, slot), new Pending(PendingKind.Read, replyTo, onDone, state));
            return;
        }
        var target = IssueLocal(key, null);
        var snapshot = target.Region?.Read(slot) ?? Empty;
        Landed(target);
        _links.Scheduler.Post(replyTo, Completion<SlotSnapshot>.Deliver, new Completion<SlotSnapshot>(onDone, state, snapshot));
    }

    public bool TryReadAtOnce(RegionKey key, int slot, out SlotSnapshot snapshot)
    {
        snapshot = default;
        if (!IsLocal(key)) return false;
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        var target = IssueLocal(key, null);
        snapshot = target.Region?.Read(slot) ?? Empty;
        Landed(target);
        return true;
    }

    public void WriteValueThenFlag(RegionKey key, int slot, byte[]? value, int flag, Mailbox replyTo, Action<object> onDone, object state)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        if (!IsLocal(key))
        {
            CheckValueSize(value);
            Issue(key, new WriteValueThenFlagRequest(key, slot, value, flag), new Pending(PendingKind.Ack, replyTo, onDone, state));
            return;
        }
        var target = IssueLocal(key, value);
        target.Region?.WriteValueThenFlag(slot, value, flag);
        Landed(target);
        _links.Scheduler.Post(replyTo, onDone, state);
    }

    public void WriteValue(RegionKey key, int slot, byte[]? value, Mailbox replyTo, Action<object> onDone, object state)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        if (!IsLocal(key))
        {
            CheckValueSize(value);
            Issue(key, new WriteValueRequest(key, slot, value), new Pending(PendingKind.Ack, replyTo, onDone, state));
            return;
        }
        var target = IssueLocal(key, value);
        target.Region?.WriteValue(slot, value);
        Landed(target);
        _links.Scheduler.Post(replyTo, onDone, state);
    }

    public void WriteFlag(RegionKey key, int slot, int flag, Mailbox replyTo, Action<object> onDone, object state)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        if (!IsLocal(key))
        {
            Issue(key, new WriteFlagRequest(key, slot, flag), new Pending(PendingKind.Ack, replyTo, onDone, state));
            return;
        }
        var target = IssueLocal(key, null);
        target.Region?.WriteFlag(slot, flag);
        Landed(target);
        _links.Scheduler.Post(replyTo, onDone, state);
    }

    public void CompareAndSwapFlag(RegionKey key, int slot, int expected, int desired, Mailbox replyTo, Action<object, bool> onDone, object state)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        if (!IsLocal(key))
        {
            Issue(key, new CompareAndSwapFlagRequest(key, slot, expected, desired), new Pending(PendingKind.Swapped, replyTo, onDone, state));
            return;
        }
        var target = IssueLocal(key, null);
        bool swapped = target.Region?.CompareAndSwapFlag(slot, expected, desired) ?? false;
        Landed(target);
        _links.Scheduler.Post(replyTo, Completion<bool>.Deliver, new Completion<bool>(onDone, state, swapped));
    }

    public void FetchAndAdd(RegionKey key, int slot, ulong delta, Mailbox replyTo, Action<object, ulong> onDone, object state)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        if (!IsLocal(key))
        {
            Issue(key, new FetchAndAddRequest(key, slot, delta), new Pending(PendingKind.Fetched, replyTo, onDone, state));
            return;
        }
        var target = IssueLocal(key, null);
        ulong before = target.Region?.FetchAndAdd(slot, delta) ?? 0;
        Landed(target);
        _links.Scheduler.Post(replyTo, Completion<ulong>.Deliver, new Completion<ulong>(onDone, state, before));
    }

    private RegionRegistry.Target IssueLocal(RegionKey key, byte[]? value)
    {
        var target = _regions.Find(key);
        target.Region?.CheckValueSize(value);
        Interlocked.Increment(ref _operations);
        return target;
    }

    private void CheckValueSize(byte[]? value)
    {
        int max = _links.Options.Limits.MaxValueBytes;
        if (value is not null && value.Length > max)
            throw new ArgumentOutOfRangeException(nameof(value), value.Length, $"a value of {value.Length} bytes exceeds the links' maximum value size of {max} bytes (WireLimits.MaxValueBytes)");
    }

    /// <summary>Sends a request to the process holding <paramref name="key"/>; waits while that link's queue is full.</summary>
    private void Issue(RegionKey key, Message request, Pending pending)
    {
        Interlocked.Increment(ref _operations);
        var peer = _links.Peer(ProcessOf(key));
        var waiting = _pending.GetOrAdd(peer, static _ => new ConcurrentDictionary<ulong, Pending>());
        ulong id = peer.NextRequestId();
        // Pending before it is sent: the completion may come back before Enqueue returns.
        waiting[id] = pending;
        var frame = OutboundFrame.Encode(request, id);
        if (peer.Queue.Enqueue(frame)) return;
        frame.Return();
        waiting.TryRemove(id, out _);
        Interlocked.Increment(ref _dropped);
        Interlocked.Increment(ref _links.Counters.SendsDroppedValue);
    }

    string? IOneSidedLinkHandler.Serve(PeerLink peer, Message request, ulong requestId)
    {
        var key = request switch
        {
            ReadRequest r => r.Key,
            WriteValueThenFlagRequest r => r.Key,
            WriteValueRequest r => r.Key,
            WriteFlagRequest r => r.Key,
            CompareAndSwapFlagRequest r => r.Key,
            FetchAndAddRequest r => r.Key,
            _ => throw new ArgumentException($"not a one-sided request: {request.GetType().Name}", nameof(request)),
        };
        if (!IsLocal(key)) return $"misrouted: '{peer.Name}' sent a {request.GetType().Name} for {key}, which '{_links.Self.Name}' does not hold";
        if (_regions.TryFind(key) is not { } target) return $"'{peer.Name}' sent a {request.GetType().Name} through {key}, which was never registered here";
        Message completion;
        try { completion = Apply(target.Region, request); }
        catch (ArgumentOutOfRangeException e) { return $"'{peer.Name}' sent a {request.GetType().Name} the region refuses: {e.Message}"; }
        Landed(target);
        Interlocked.Increment(ref _served);
        var frame = OutboundFrame.Encode(completion, requestId);
        if (peer.Queue.TryEnqueueOwed(frame)) return null;
        frame.Return();
        return peer.IsFenced ? null : $"'{peer.Name}' keeps sending one-sided requests without reading their completions: more than {_links.Options.MaxOwedCompletionBytes} bytes are owed (LinkOptions.MaxOwedCompletionBytes)";
    }

    /// <summary>Applies a request to <paramref name="region"/> (null: a dropped incarnation's, where it changes nothing) and builds its completion.</summary>
    private static Message Apply(IRegion? region, Message request)
    {
        switch (request)
        {
            case ReadRequest r:
                var snapshot = region?.Read(r.Slot) ?? Empty;
                return new SnapshotCompletion(snapshot.Flag, snapshot.Value);
            case WriteValueThenFlagRequest r:
                region?.WriteValueThenFlag(r.Slot, r.Value, r.Flag);
                return Ack;
            case WriteValueRequest r:
                region?.WriteValue(r.Slot, r.Value);
                return Ack;
            case WriteFlagRequest r:
                region?.WriteFlag(r.Slot, r.Flag);
                return Ack;
            case CompareAndSwapFlagRequest r:
                return new SwappedCompletion(region?.CompareAndSwapFlag(r.Slot, r.Expected, r.Desired) ?? false);
            case FetchAndAddRequest r:
                return new FetchedCompletion(region?.FetchAndAdd(r.Slot, r.Delta) ?? 0);
            default:
                throw new ArgumentException($"not a one-sided request: {request.GetType().Name}", nameof(request));
        }
    }

    string? IOneSidedLinkHandler.Complete(PeerLink peer, Message completion, ulong requestId)
    {
        if (!_pending.TryGetValue(peer, out var waiting) || !waiting.TryRemove(requestId, out var pending))
            return $"'{peer.Name}' sent a {completion.GetType().Name} for request {requestId}, which is not pending";
        var scheduler = _links.Scheduler;
        switch (pending.Kind, completion)
        {
            case (PendingKind.Read, SnapshotCompletion s):
                scheduler.Post(pending.ReplyTo, Completion<SlotSnapshot>.Deliver, new Completion<SlotSnapshot>((Action<object, SlotSnapshot>)pending.OnDone, pending.State, new SlotSnapshot(s.Flag, s.Value)));
                return null;
            case (PendingKind.Ack, AckCompletion):
                scheduler.Post(pending.ReplyTo, (Action<object>)pending.OnDone, pending.State);
                return null;
            case (PendingKind.Swapped, SwappedCompletion s):
                scheduler.Post(pending.ReplyTo, Completion<bool>.Deliver, new Completion<bool>((Action<object, bool>)pending.OnDone, pending.State, s.Swapped));
                return null;
            case (PendingKind.Fetched, FetchedCompletion f):
                scheduler.Post(pending.ReplyTo, Completion<ulong>.Deliver, new Completion<ulong>((Action<object, ulong>)pending.OnDone, pending.State, f.Before));
                return null;
            default:
                return $"'{peer.Name}' answered request {requestId} ({pending.Kind}) with a {completion.GetType().Name}";
        }
    }

    void IOneSidedLinkHandler.LinkLost(PeerLink peer)
    {
        if (_pending.TryGetValue(peer, out var waiting)) waiting.Clear();
    }

    private void Landed(RegionRegistry.Target target)
    {
        if (target.Retired) Interlocked.Increment(ref _landedInRetired);
    }

    private enum PendingKind : byte { Read, Ack, Swapped, Fetched }

    /// <summary>An operation waiting for its completion: the handler (its type fixed by the kind) and the state it runs with.</summary>
    private sealed record Pending(PendingKind Kind, Mailbox ReplyTo, Delegate OnDone, object State);

    private sealed class Completion<T>(Action<object, T> onDone, object state, T result)
    {
        public static readonly Action<object> Deliver = static completion => ((Completion<T>)completion).Run();

        private void Run() => onDone(state, result);
    }
}
