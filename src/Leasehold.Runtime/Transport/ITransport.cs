using Leasehold.Runtime.Scheduling;

namespace Leasehold.Runtime.Transport;

/// <summary>A node's one dispatch point: every message for it arrives here, on its own mailbox, in the order each link sent them.</summary>
public interface IMessageSink
{
    void Receive(Message message);
}

/// <summary>
/// How nodes talk: ordered messages per link (this interface) and one-sided operations on registered
/// memory regions. Implementations: in process by reference, in process through the codec, and (later)
/// shared memory and TCP. Protocol code sees only <see cref="Endpoint"/>s and <see cref="NodeId"/>s.
/// </summary>
public interface ITransport
{
    /// <summary>
    /// Registers a node's incarnation; it replaces an earlier incarnation of the same node, whose
    /// messages still in flight to anyone are then refused as stale.
    /// </summary>
    Endpoint Register(NodeId node, Incarnation incarnation, Mailbox mailbox, IMessageSink sink);

    /// <summary>Messages sent between distinct nodes.</summary>
    long Messages { get; }

    /// <summary>Messages refused because their sender's incarnation was not the receiver's.</summary>
    long StaleRefused { get; }
}

/// <summary>One registered node's side of the transport: it sends, stamped with its id and incarnation.</summary>
public abstract class Endpoint(NodeId node, Incarnation incarnation, Mailbox mailbox)
{
    public NodeId Node { get; } = node;
    public Incarnation Incarnation { get; } = incarnation;
    public Mailbox Mailbox { get; } = mailbox;

    /// <summary>Sends <paramref name="message"/> to <paramref name="to"/>, after everything sent before it on that link.</summary>
    public abstract void Send(NodeId to, Message message);

    public override string ToString() => $"{Node}{Incarnation}";
}
