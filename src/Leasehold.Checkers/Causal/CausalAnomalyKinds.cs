namespace Leasehold.Checkers.Causal;

/// <summary>
/// The bad patterns of causal consistency for differentiated histories (Bouajjani, Enea, Guerraoui and
/// Hamza, "On verifying causal consistency", POPL '17), named as the paper names them, plus aborted reads, and the
/// patterns of transactional causal consistency (TCC) for workflows marked as read-write transactions.
/// </summary>
public static class CausalAnomalyKinds
{
    /// <summary>A read of a value nobody wrote to that key. Counted per read.</summary>
    public const string ThinAirRead = "ThinAirRead";
    /// <summary>A read of a value written by an aborted workflow. Counted per read.</summary>
    public const string AbortedRead = "AbortedRead";
    /// <summary>
    /// A read, by another workflow, of a write a read-write transaction overwrote itself before committing: only each
    /// key's final write (last in the transaction's function order) becomes visible at commit. Counted per read.
    /// </summary>
    public const string IntermediateRead = "IntermediateRead";
    /// <summary>A cycle in session order ∪ reads-from. Counted per strongly connected component.</summary>
    public const string CyclicCO = "CyclicCO";
    /// <summary>
    /// A read of the initial value although a write of the key is in its causal past. Counted per read. In a
    /// read-write transaction, only for a write of the transaction's own before the read (read your writes): what
    /// it reads from outside is judged against its snapshot (NonSnapshotRead, FracturedRead), in any order.
    /// </summary>
    public const string WriteCOInitRead = "WriteCOInitRead";
    /// <summary>
    /// A read of w1 although w1 →CO w2 →CO the read, w2 another write of the key. Counted per read. In a read-write
    /// transaction, only for w2 a write of the transaction's own before the read, as for WriteCOInitRead.
    /// </summary>
    public const string WriteCORead = "WriteCORead";
    /// <summary>
    /// Atomic visibility: transaction T read a write of transaction U, U also wrote k, but T's read of k returned a
    /// write causally before U's write of k, or the initial value. Counted per read.
    /// </summary>
    public const string FracturedRead = "FracturedRead";
    /// <summary>
    /// Transaction T's read of k returned w1 (or the initial value) although a write w of k with w1 →CO w is in
    /// T's snapshot: the causal past of all T's reads, in every function, and of its session. Counted per read.
    /// </summary>
    public const string NonSnapshotRead = "NonSnapshotRead";
    /// <summary>
    /// Convergence only: a cycle in conflict order ∪ causal order (w1 CF w2 when a read of w2 has w1 in its causal
    /// past). Counted per strongly connected component.
    /// </summary>
    public const string CyclicCF = "CyclicCF";

    /// <summary>The kinds only histories with read-write transactions can have.</summary>
    public static readonly IReadOnlyList<string> Transactional = [IntermediateRead, FracturedRead, NonSnapshotRead];

    /// <summary>Every kind, in the order reports list them.</summary>
    public static readonly IReadOnlyList<string> All = [ThinAirRead, AbortedRead, IntermediateRead, CyclicCO, WriteCOInitRead, WriteCORead, FracturedRead, NonSnapshotRead, CyclicCF];
}
