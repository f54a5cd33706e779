using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Runtime.Transport;

/// <summary>
/// The in-process transport with every message pushed through the wire codec: a send encodes the message
/// and the receiver decodes a fresh object graph, so no object is shared between sender and receiver. A
/// sender that touches a message after sending it, or a message the codec cannot carry, shows up here and
/// not first on a real network. Ordering, latency and the refusal of stale incarnations are the fast
/// transport's (<see cref="InprocTransport"/>), which carries the encoded frames.
/// One-sided operations take the same path through <see cref="SerialisingOneSided"/>
/// (<see cref="Transports.CreateOneSided"/> picks it with this transport's kind).
/// </summary>
public sealed class SerialisingInprocTransport(IScheduler scheduler, TimeSpan linkLatency, WireLimits? limits = null) : ITransport
{
    // Formatters first, on the thread that builds the transport (see WireCodec.Prepare).
    private readonly IReadOnlyList<Type> _prepared = Wire.WireCodec.Prepare();
    private readonly InprocTransport _frames = new(scheduler, linkLatency);
    private long _bytes;

    public WireLimits Limits { get; } = limits ?? WireLimits.Default;
    public TimeSpan LinkLatency => _frames.LinkLatency;
    public IScheduler Scheduler => _frames.Scheduler;
    public long Messages => _frames.Messages;
    public long StaleRefused => _frames.StaleRefused;
    public long Undeliverable => _frames.Undeliverable;
    public string? LastRefusal => _frames.LastRefusal;
    /// <summary>Frame bytes encoded, headers included.</summary>
    public long BytesSent => Interlocked.Read(ref _bytes);

    /// <summary>
    /// As <see cref="InprocTransport.Jitter"/>: delays the messages from <paramref name="from"/> to <paramref name="to"/>
    /// whose type <paramref name="applies"/> selects (all, if null). It asks about the type: a frame in flight holds
    /// bytes, not the message.
    /// </summary>
    public void Jitter(NodeId from, NodeId to, TimeSpan jitter, Random random, Func<Type, bool>? applies = null) =>
        _frames.Jitter(from, to, jitter, random, applies is null ? null : frame => applies(((PooledFrame)frame).MessageType));

    public Endpoint Register(NodeId node, Incarnation incarnation, Mailbox mailbox, IMessageSink sink) =>
        new EncodingEndpoint(this, _frames.Register(node, incarnation, mailbox, new DecodingSink(sink, Limits)));

    private sealed class EncodingEndpoint(SerialisingInprocTransport transport, Endpoint frames)
        : Endpoint(frames.Node, frames.Incarnation, frames.Mailbox)
    {
        public override void Send(NodeId to, Message message)
        {
            // Stamped as the fast transport stamps it, so the header carries the sender and its incarnation.
            message.Stamp(Node, Incarnation);
            var frame = PooledFrame.Encode(message);
            Interlocked.Add(ref transport._bytes, frame.Length);
            frames.Send(to, frame);
        }
    }

    private sealed class DecodingSink(IMessageSink sink, WireLimits limits) : IMessageSink
    {
        public void Receive(Message message)
        {
            var frame = (PooledFrame)message;
            bool decoded;
            Message? copy;
            WireRefusal refusal;
            try { decoded = WireCodec.TryDecode(frame.AsSpan(), limits, out copy, out refusal); }
            finally { frame.Return(); }
            // This process encoded the frame: a refusal is a bug here (a message outside the limits or the
            // table), so it faults the run through the scheduler rather than dropping the message.
            if (!decoded) throw new InvalidOperationException($"the serialising transport refused a frame it encoded, from {frame.From}{frame.Incarnation}: {refusal}");
            sink.Receive(copy!);
        }
    }
}
