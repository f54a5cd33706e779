namespace Leasehold.Checkers.Causal;

/// <summary>
/// The bad patterns of causal consistency for differentiated histories (Bouajjani, Enea, Guerraoui and
/// Hamza, "On verifying causal consistency", POPL '17), named as the paper names them, plus aborted reads.
/// </summary>
public static class CausalAnomalyKinds
{
    /// <summary>A read of a value nobody wrote to that key. Counted per read.</summary>
    public const string ThinAirRead = "ThinAirRead";
    /// <summary>A read of a value written by an aborted workflow. Counted per read.</summary>
    public const string AbortedRead = "AbortedRead";
    /// <summary>A cycle in session order ∪ reads-from. Counted per strongly connected component.</summary>
    public const string CyclicCO = "CyclicCO";
    /// <summary>A read of the initial value although a write of the key is in its causal past. Counted per read.</summary>
    public const string WriteCOInitRead = "WriteCOInitRead";
    /// <summary>A read of w1 although w1 →CO w2 →CO the read, w2 another write of the key. Counted per read.</summary>
    public const string WriteCORead = "WriteCORead";
    /// <summary>
    /// Convergence only: a cycle in conflict order ∪ causal order (w1 CF w2 when a read of w2 has w1 in its causal
    /// past). Counted per strongly connected component.
    /// </summary>
    public const string CyclicCF = "CyclicCF";

    /// <summary>Every kind, in the order reports list them.</summary>
    public static readonly IReadOnlyList<string> All = [ThinAirRead, AbortedRead, CyclicCO, WriteCOInitRead, WriteCORead, CyclicCF];
}
