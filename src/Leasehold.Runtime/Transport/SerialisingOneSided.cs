using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Runtime.Transport;

/// <summary>
/// One-sided memory with every operation and every completion pushed through the wire codec: the request is
/// encoded at issue and decoded into a fresh request, which the inner <see cref="OneSidedMemory"/> applies
/// (so latency, ordering, rotation and the counts stay the inner's); the completion is encoded and decoded
/// again on the requester's mailbox before its handler sees it. The requester never sees the target's arrays
/// and the target never keeps the requester's: an array touched after issue, or an operation the codec cannot
/// carry, shows up here and not first on a real network.
/// <para>
/// This process encoded every frame it decodes, so a refusal is a bug (a value beyond
/// <see cref="WireLimits.MaxValueBytes"/>, a negative slot): a request's refusal throws at issue, as the inner
/// memory's own refusals do; a completion's throws inside the completion's mailbox work, which faults the run
/// through the scheduler, as the serialising transport does for messages.
/// </para>
/// </summary>
public sealed class SerialisingOneSided : IOneSided
{
    private static readonly AckCompletion Ack = new();

    private readonly OneSidedMemory _inner;
    // Bound once: the inner memory runs these on the requester's mailbox with a Pending as their state.
    private readonly Action<object, SlotSnapshot> _deliverSnapshot;
    private readonly Action<object, bool> _deliverSwapped;
    private readonly Action<object, ulong> _deliverFetched;
    private readonly Action<object> _deliverAck;
    private long _bytes;

    public SerialisingOneSided(OneSidedMemory inner, WireLimits? limits = null)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        WireCodec.Prepare(); // formatters first, on the thread that builds the transport
        Limits = limits ?? WireLimits.Default;
        _deliverSnapshot = DeliverSnapshot;
        _deliverSwapped = DeliverSwapped;
        _deliverFetched = DeliverFetched;
        _deliverAck = DeliverAck;
    }

    public WireLimits Limits { get; }
    public TimeSpan OperationLatency => _inner.OperationLatency;
    public long Operations => _inner.Operations;
    public long LandedInRetired => _inner.LandedInRetired;
    /// <summary>Frame bytes encoded, requests and completions, headers included.</summary>
    public long BytesCarried => Interlocked.Read(ref _bytes);

    public void Register(RegionKey key, IRegion region) => _inner.Register(key, region);
    public void Retire(RegionKey key) => _inner.Retire(key);
    public int RetireIncarnation(int incarnation) => _inner.RetireIncarnation(incarnation);
    public bool IsRetired(RegionKey key) => _inner.IsRetired(key);
    public int DropIncarnation(int incarnation) => _inner.DropIncarnation(incarnation);
    public bool HoldsRegion(RegionKey key) => _inner.HoldsRegion(key);
    public int RegionCount => _inner.RegionCount;

    public void Read(RegionKey key, int slot, Mailbox replyTo, Action<object, SlotSnapshot> onDone, object state)
    {
        var request = Carry(new ReadRequest(key, slot));
        _inner.Read(request.Key, request.Slot, replyTo, _deliverSnapshot, new Pending<SlotSnapshot>(onDone, state));
    }

    public bool TryReadAtOnce(RegionKey key, int slot, out SlotSnapshot snapshot)
    {
        if (_inner.OperationLatency > TimeSpan.Zero)
        {
            snapshot = default;
            return false;
        }
        var request = Carry(new ReadRequest(key, slot));
        bool landed = _inner.TryReadAtOnce(request.Key, request.Slot, out var read);
        snapshot = landed ? CarrySnapshot(read) : default;
        return landed;
    }

    public void WriteValueThenFlag(RegionKey key, int slot, byte[]? value, int flag, Mailbox replyTo, Action<object> onDone, object state)
    {
        var request = Carry(new WriteValueThenFlagRequest(key, slot, value, flag));
        _inner.WriteValueThenFlag(request.Key, request.Slot, request.Value, request.Flag, replyTo, _deliverAck, new Pending(onDone, state));
    }

    public void WriteValue(RegionKey key, int slot, byte[]? value, Mailbox replyTo, Action<object> onDone, object state)
    {
        var request = Carry(new WriteValueRequest(key, slot, value));
        _inner.WriteValue(request.Key, request.Slot, request.Value, replyTo, _deliverAck, new Pending(onDone, state));
    }

    public void WriteFlag(RegionKey key, int slot, int flag, Mailbox replyTo, Action<object> onDone, object state)
    {
        var request = Carry(new WriteFlagRequest(key, slot, flag));
        _inner.WriteFlag(request.Key, request.Slot, request.Flag, replyTo, _deliverAck, new Pending(onDone, state));
    }

    public void CompareAndSwapFlag(RegionKey key, int slot, int expected, int desired, Mailbox replyTo, Action<object, bool> onDone, object state)
    {
        var request = Carry(new CompareAndSwapFlagRequest(key, slot, expected, desired));
        _inner.CompareAndSwapFlag(request.Key, request.Slot, request.Expected, request.Desired, replyTo, _deliverSwapped, new Pending<bool>(onDone, state));
    }

    public void FetchAndAdd(RegionKey key, int slot, ulong delta, Mailbox replyTo, Action<object, ulong> onDone, object state)
    {
        var request = Carry(new FetchAndAddRequest(key, slot, delta));
        _inner.FetchAndAdd(request.Key, request.Slot, request.Delta, replyTo, _deliverFetched, new Pending<ulong>(onDone, state));
    }







    private void DeliverSnapshot(object pending, SlotSnapshot snapshot)
    {
        var p = (Pending<SlotSnapshot>)pending;
        p.OnDone(p.State, CarrySnapshot(snapshot));
    }

    private void DeliverSwapped(object pending, bool swapped)
    {
        var p = (Pending<bool>)pending;
        p.OnDone(p.State, Carry(new SwappedCompletion(swapped)).Swapped);
    }

    private void DeliverFetched(object pending, ulong before)
    {
        var p = (Pending<ulong>)pending;
        p.OnDone(p.State, Carry(new FetchedCompletion(before)).Before);
    }

    private void DeliverAck(object pending)
    {
        var p = (Pending)pending;
        Carry(Ack);
        p.OnDone(p.State);
    }

    private SlotSnapshot CarrySnapshot(SlotSnapshot snapshot)
    {
        var copy = Carry(new SnapshotCompletion(snapshot.Flag, snapshot.Value));
        return new SlotSnapshot(copy.Flag, copy.Value);
    }

    /// <summary>Encodes <paramref name="frame"/> and decodes it into a fresh copy, which shares no array with it.</summary>
    private T Carry<T>(T frame) where T : Message
    {
        var encoded = PooledFrame.Encode(frame);
        Interlocked.Add(ref _bytes, encoded.Length);
        bool decoded;
        Message? copy;
        WireRefusal refusal;
        try { decoded = WireCodec.TryDecode(encoded.AsSpan(), Limits, out copy, out refusal); }
        finally { encoded.Return(); }
        if (!decoded) throw new InvalidOperationException($"the serialising one-sided memory refused a {typeof(T).Name} it encoded: {refusal}");
        return (T)copy!;
    }

    private sealed record Pending(Action<object> OnDone, object State);

    private sealed record Pending<T>(Action<object, T> OnDone, object State);
}
