namespace Leasehold;

/// <summary>One object of shared state: a key in a table. The same key string in two tables names two objects.</summary>
public readonly record struct StateKey(string Table, string Key)
{
    public override string ToString() => $"{Table}/{Key}";
}

/// <summary>How a function touches a declared key.</summary>
public enum AccessMode : byte
{
    Read = 0,
    ReadWrite = 1,
}

/// <summary>The consistency level a workflow runs under.</summary>
public enum Consistency : byte
{
    Serializable = 0,
    /// <summary>Causal+ consistency as the workflow roams (CausalMesh): reads and writes never coordinate and never abort.</summary>
    Causal = 1,
    /// <summary>
    /// A read-write transaction under transactional causal consistency: every read of every function comes
    /// from one causally consistent snapshot, and the writes become visible together when the workflow
    /// finishes. It may abort, when a version its snapshot needs is gone; the platform then retries it.
    /// </summary>
    TransactionalCausal = 2,
}

/// <summary>When a workflow's writes become visible to later workflows on the same keys.</summary>
public enum WriteGating : byte
{
    /// <summary>
    /// Only once nothing that could still end the workflow remains: every function that is not an ancestor
    /// of the writer has finished. Any function can fail by error (throw, undeclared key, time limit), so a
    /// workflow is all-or-nothing even when its code has a bug. The default.
    /// </summary>
    Strict = 0,
    /// <summary>
    /// §6 of the design as written: once every function declared MayAbort has finished, so a workflow whose
    /// writers depend on all its aborters never waits. A function that then fails by error leaves the
    /// writes that were already visible in place, and its result says so.
    /// </summary>
    DeclaredAborts = 1,
}
