namespace Leasehold.Runtime.Serializable.Worker.Lease;

/// <summary>
/// The requester's side of one access to a key another worker holds. It is the state of the one-sided
/// reads and writes of that access, so they allocate no closure; the holder keeps its own chain entry.
/// </summary>
internal sealed class RemoteAccess(Operation operation, int access)
{
    public Operation Operation { get; } = operation;
    public int Access { get; } = access;
    public int KeyId => Operation.Accesses[Access].KeyId;
    public int Holder => Operation.Holders[Access];
    /// <summary>Whether the release in flight wrote a value.</summary>
    public bool Written;
}
