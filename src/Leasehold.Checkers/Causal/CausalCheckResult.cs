namespace Leasehold.Checkers.Causal;

/// <summary>One violation: its kind, an explanation naming the records, ops and causal path, and the records involved.</summary>
public sealed record CausalAnomaly(string Kind, string Explanation, IReadOnlyList<CausalRecord> Records);

/// <summary>The causal checker's verdict on one history.</summary>
public sealed class CausalCheckResult
{
    public required bool Valid { get; init; }
    /// <summary>Whether convergence (CCv) was checked as well as causal consistency (CC).</summary>
    public required bool Convergence { get; init; }
    /// <summary>Workflows whose functions all committed (recorded ones: a cut-off workflow counts).</summary>
    public long Workflows { get; init; }
    /// <summary>Of <see cref="Workflows"/>, the read-write transactions.</summary>
    public long Transactions { get; init; }
    public long AbortedWorkflows { get; init; }
    /// <summary>Records (function executions) read, aborted ones included.</summary>
    public long Functions { get; init; }
    /// <summary>Parents some record names but that have no record of their own (a run cut off).</summary>
    public long MissingFunctions { get; init; }
    /// <summary>Operations of committed workflows.</summary>
    public long Ops { get; init; }
    public long Reads { get; init; }
    public long Writes { get; init; }
    /// <summary>Chains of the decomposition: the width of every vector clock.</summary>
    public int Chains { get; init; }
    public long Nodes { get; init; }
    /// <summary>Session-order and reads-from edges.</summary>
    public long Edges { get; init; }
    /// <summary>Conflict edges added for convergence (ones causal order does not already imply).</summary>
    public long ConflictEdges { get; init; }
    /// <summary>Violations by kind (every kind present, zero or not, in <see cref="CausalAnomalyKinds.All"/> order).</summary>
    public required IReadOnlyDictionary<string, long> Counts { get; init; }
    /// <summary>The first few violations of each kind, explained.</summary>
    public required IReadOnlyList<CausalAnomaly> Examples { get; init; }
}
