using Leasehold.Checkers.Histories;

namespace Leasehold.Checkers.ListAppend;

/// <summary>One anomaly: its kind, an explanation in words (every edge of a cycle), and the operations involved.</summary>
public sealed record Anomaly(string Kind, string Explanation, IReadOnlyList<HistoryOp> Operations);

/// <summary>The checker's verdict on one history.</summary>
public sealed class CheckResult
{
    public required bool Valid { get; init; }
    public required bool Strict { get; init; }
    public long Committed { get; init; }
    public long Failed { get; init; }
    /// <summary>Ended info or never completed: they may have committed.</summary>
    public long Unknown { get; init; }
    /// <summary>How many of the unknown ones were seen to have committed (their appends were read).</summary>
    public long UnknownObserved { get; init; }
    public long GraphEdges { get; init; }
    /// <summary>Anomalies found, by kind (every kind present, zero or not, in <see cref="AnomalyKinds.All"/> order).</summary>
    public required IReadOnlyDictionary<string, long> Counts { get; init; }
    /// <summary>The first few anomalies of each kind, explained.</summary>
    public required IReadOnlyList<Anomaly> Examples { get; init; }
}
