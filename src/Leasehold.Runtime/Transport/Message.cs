using MemoryPack;

namespace Leasehold.Runtime.Transport;

/// <summary>
/// A protocol message: a typed record, the only thing that crosses from one node to another. The endpoint
/// that sends it stamps its sender and incarnation, so a receiver can refuse one from a fenced incarnation.
/// A sender never touches a message (or an array it holds) after sending it: on the fast in-process
/// transport the receiver gets the same object, and the serialising transport would expose a breach.
/// </summary>
public abstract record Message
{
    /// <summary>The node that sent it, stamped at send.</summary>
    /// <remarks>Not part of a message's body: the wire carries it in the frame header.</remarks>
    [MemoryPackIgnore]
    public NodeId From { get; internal set; }

    /// <summary>The sender's incarnation, stamped at send.</summary>
    [MemoryPackIgnore]
    public Incarnation Incarnation { get; internal set; }

    internal void Stamp(NodeId from, Incarnation incarnation)
    {
        From = from;
        Incarnation = incarnation;
    }
}
