using Leasehold.Runtime.Scheduling;

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
    VectorClock TakeSnapshot(CausalSession session);
    /// <summary>A read-write transaction's read, from its snapshot; throws <see cref="SnapshotUnavailableException"/> when that version is gone.</summary>
    CausalVersion ReadInSnapshot(CausalSession session, StateKey key);
    /// <summary>Makes a read-write transaction's buffered writes visible, together, with this server as their head.</summary>
    void Commit(CausalSession session);
}
