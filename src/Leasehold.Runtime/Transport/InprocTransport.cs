using Leasehold.Runtime.Scheduling;

namespace Leasehold.Runtime.Transport;

/// <summary>
/// The in-process transport: a message travels by reference from the sender to the receiver's mailbox,
/// after <see cref="LinkLatency"/> of waiting time. A constant latency with first-in-first-out deadlines
/// keeps every link in order. The receiver is looked up when the message arrives, so a message that was
/// in flight across a rollback meets the node's new incarnation, which refuses it.
/// </summary>
public sealed class InprocTransport(IScheduler scheduler, TimeSpan linkLatency) : ITransport
{
    private readonly Lock _registering = new();
    // Copy on write, indexed [role][index]: arrivals read it without a lock.
    private Registration?[][] _nodes = [[], [], [], [], []]; // one row per NodeRole
    // Copy on write, like _nodes; null (the usual case) costs sends one read.
    private Dictionary<(NodeId From, NodeId To), JitteredLink>? _jittered;
    private long _messages;
    private long _stale;
    private long _undeliverable;
    private string? _lastRefusal;

    public TimeSpan LinkLatency { get; } = linkLatency;
    public IScheduler Scheduler { get; } = scheduler;
    public long Messages => Interlocked.Read(ref _messages);
    public long StaleRefused => Interlocked.Read(ref _stale);
    /// <summary>Messages to a node nobody registered: dropped, as a network drops a packet to no host.</summary>
    public long Undeliverable => Interlocked.Read(ref _undeliverable);
    /// <summary>Why the last message was refused or dropped (for tests and diagnostics).</summary>
    public string? LastRefusal => Volatile.Read(ref _lastRefusal);

    public Endpoint Register(NodeId node, Incarnation incarnation, Mailbox mailbox, IMessageSink sink)
    {
        var registration = new Registration(this, node, incarnation, mailbox, sink);
        lock (_registering)
        {
            var nodes = (Registration?[][])_nodes.Clone();
            var ofRole = nodes[(int)node.Role];
            if (node.Index >= ofRole.Length) Array.Resize(ref ofRole, node.Index + 1);
            else ofRole = (Registration?[])ofRole.Clone();
            ofRole[node.Index] = registration;
            nodes[(int)node.Role] = ofRole;
            Volatile.Write(ref _nodes, nodes);
        }
        return registration;
    }

    /// <summary>
    /// Delays each message from <paramref name="from"/> to <paramref name="to"/> that <paramref name="applies"/> selects
    /// (all, if null) by the link latency plus a random part of <paramref name="jitter"/> drawn from
    /// <paramref name="random"/> (the deterministic mode's reorderings across links), never before the one selected
    /// ahead of it: the selected messages form a channel of their own that stays in order, as a second connection
    /// between the two nodes would; the others keep the plain link, also in order.
    /// </summary>
    public void Jitter(NodeId from, NodeId to, TimeSpan jitter, Random random, Func<Message, bool>? applies = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(jitter, TimeSpan.Zero);
        lock (_registering)
        {
            var jittered = _jittered is null ? [] : new Dictionary<(NodeId, NodeId), JitteredLink>(_jittered);
            jittered[(from, to)] = new JitteredLink(this, to, jitter, random, applies);
            Volatile.Write(ref _jittered, jittered);
        }
    }

    private void Send(Registration from, NodeId to, Message message)
    {
        message.Stamp(from.Node, from.Incarnation);
        if (to == from.Node)
        {
            Scheduler.Post(from.Mailbox, from.Deliver, message); // local and free
            return;
        }
        Interlocked.Increment(ref _messages);
        if (Volatile.Read(ref _jittered) is { } jittered && jittered.TryGetValue((from.Node, to), out var link) && link.Applies(message)) link.Send(message);
        else if (LinkLatency <= TimeSpan.Zero) Arrive(to, message);
        else Scheduler.After(LinkLatency, Arrival.Of(this, to, message));
    }

    private void Arrive(NodeId to, Message message)
    {
        var nodes = Volatile.Read(ref _nodes)[(int)to.Role];
        var receiver = to.Index < nodes.Length ? nodes[to.Index] : null;
        if (receiver is null)
        {
            Interlocked.Increment(ref _undeliverable);
            Volatile.Write(ref _lastRefusal, $"{message.GetType().Name} from {message.From}{message.Incarnation} to {to}: no such node");
            return;
        }
        if (receiver.Incarnation != message.Incarnation)
        {
            Interlocked.Increment(ref _stale);
            Volatile.Write(ref _lastRefusal, $"{message.GetType().Name} from {message.From}{message.Incarnation} to {to}{receiver.Incarnation}: stale incarnation");
            return;
        }
        Scheduler.Post(receiver.Mailbox, receiver.Deliver, message);
    }

    private sealed class Registration : Endpoint
    {
        private readonly InprocTransport _transport;
        public readonly Action<object> Deliver;

        public Registration(InprocTransport transport, NodeId node, Incarnation incarnation, Mailbox mailbox, IMessageSink sink)
            : base(node, incarnation, mailbox)
        {
            _transport = transport;
            Deliver = m => sink.Receive((Message)m);
        }

        public override void Send(NodeId to, Message message) => _transport.Send(this, to, message);
    }

    /// <summary>A message on the wire: one object for the timer, so a delayed send allocates one closure-free item.</summary>
    private sealed class Arrival(InprocTransport transport, NodeId to, Message message)
    {
        public static Action Of(InprocTransport transport, NodeId to, Message message) => new Arrival(transport, to, message).Land;
        public void Land() => transport.Arrive(to, message);
    }

    /// <summary>A link whose messages each wait a random extra delay, delivered in the order sent all the same.</summary>
    private sealed class JitteredLink(InprocTransport transport, NodeId to, TimeSpan jitter, Random random, Func<Message, bool>? applies)
    {
        public bool Applies(Message message) => applies is null || applies(message);

        private readonly Queue<Message> _inFlight = new();
        private DateTimeOffset _lastDelivery = DateTimeOffset.MinValue;
        private Action? _land; // bound once: a send then allocates no closure

        public void Send(Message message)
        {
            var scheduler = transport.Scheduler;
            TimeSpan wait;
            lock (_inFlight)
            {
                var now = scheduler.Time.GetUtcNow();
                var at = now + transport.LinkLatency + TimeSpan.FromTicks((long)(random.NextDouble() * jitter.Ticks));
                if (at < _lastDelivery) at = _lastDelivery; // equal deadlines run in the order they were scheduled
                _lastDelivery = at;
                _inFlight.Enqueue(message);
                wait = at - now;
            }
            scheduler.After(wait, _land ??= Land);
        }

        // Each timer delivers the oldest message in flight, not its own: timers that round to the same instant
        // (virtual time is in ns, GetUtcNow in 100 ns ticks) may fire in either order; the link may not.
        private void Land()
        {
            Message next;
            lock (_inFlight) next = _inFlight.Dequeue();
            transport.Arrive(to, next);
        }
    }
}
