namespace Leasehold.Runtime.Serializable.Worker;

internal enum EntryKind : byte
{
    /// <summary>An operation of a run routed to this worker, on a key this worker holds.</summary>
    Local,
    /// <summary>A virtual vertex: another worker's operation on a key this worker holds.</summary>
    Virtual,
    /// <summary>The lease moves away at this batch: hand the value to the new holder after every earlier operation.</summary>
    HandoverOut,
    /// <summary>The lease arrives at this batch: wait for the old holder's hand-over (or load from the store) before any later operation.</summary>
    AwaitIn,
}

/// <summary>A remote access given back: whether it wrote, whether the write waits for its workflow's outcome, whether that workflow already ended without committing.</summary>
internal readonly record struct ReleaseNotice(bool Written, bool Tentative, bool Aborted);

/// <summary>
/// One entry of a key's operation chain, ordered by (ts, position). Lease transitions sort at
/// (first ts of their batch, −1): after every operation of earlier batches, before any of theirs.
/// </summary>
internal sealed class ChainEntry
{
    public ChainEntry(EntryKind kind, long ts, int position, long batch, int keyId)
    {
        Kind = kind;
        Ts = ts;
        Position = position;
        Batch = batch;
        KeyId = keyId;
    }

    public EntryKind Kind { get; }
    public long Ts { get; }
    public int Position { get; }
    public long Batch { get; }
    public int KeyId { get; }
    /// <summary>Local: this worker's operation. Virtual entries stand for another worker's, named by (ts, position) only.</summary>
    public Operation? Operation;
    /// <summary>Which of the operation's accesses the entry stands for.</summary>
    public int AccessIndex;
    /// <summary>Virtual: the requester; HandoverOut: the new holder; AwaitIn: the old holder, or −1 to load from the store.</summary>
    public int Peer;
    /// <summary>The entry has started (acquired, granted, loading) and stays at the head until it retires.</summary>
    public bool Active;
    /// <summary>Virtual: the value when the flag was granted, restored if the requester's workflow aborts.</summary>
    public byte[]? BeforeImage;

    public int CompareTo(ChainEntry other) =>
        Ts != other.Ts ? Ts.CompareTo(other.Ts) : Position.CompareTo(other.Position);

    public override string ToString() => $"{Kind}({Ts},{Position})b{Batch}k{KeyId}";
}
