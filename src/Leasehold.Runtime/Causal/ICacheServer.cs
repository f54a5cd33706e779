using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Causal;

/// <summary>A cache server as a function co-located with it sees it: reads and writes on its mailbox, with the workflow's session.</summary>
internal interface ICacheServer
{
    int Id { get; }
    Mailbox Mailbox { get; }
    /// <summary>The version read: its value, and its clock (zero: the initial value, nobody's write).</summary>
    CausalVersion Read(CausalSession session, StateKey key);
    void Write(CausalSession session, StateKey key, byte[]? value);

    /// <summary>A read-write transaction starting here: the snapshot all its reads will see.</summary>
    /// <param name="hint">a snapshot known to be safe to read (a join of visible clocks), joined in: an aborted attempt's retry passes the aborting server's</param>
    VectorClock TakeSnapshot(CausalSession session, VectorClock? hint = null);
    /// <summary>What a retry should join into its snapshot after an abort here: the clocks visible here (null: nothing).</summary>
    VectorClock? SnapshotHint();
    /// <summary>A read-write transaction's read, from its snapshot; throws <see cref="SnapshotUnavailableException"/> when that version is gone.</summary>
    CausalVersion ReadInSnapshot(CausalSession session, StateKey key);
    /// <summary>Makes a read-write transaction's buffered writes visible, together, with this server as their head.</summary>
    void Commit(CausalSession session);

    /// <summary>This server's node on the transport, and the next server on the ring.</summary>
    void Connect(Endpoint endpoint, NodeId successor);
    /// <summary>A message from the previous server on the ring, on this server's mailbox.</summary>
    void ReceiveRing(Message message);
    /// <summary>Ring messages this server sent.</summary>
    long RingSent { get; }
}
