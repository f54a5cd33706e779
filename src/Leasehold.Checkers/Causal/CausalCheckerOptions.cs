namespace Leasehold.Checkers.Causal;

public sealed record CausalCheckerOptions
{
    /// <summary>
    /// Also check convergence (causal convergence, CCv): concurrent writes of a key are seen in one order by
    /// everyone. Off by default: plain causal consistency (CC) allows sessions to disagree forever on the order
    /// of concurrent writes, and it is what the bad patterns of checks 1–5 define. CausalMesh promises causal+
    /// (last-writer-wins convergence), so its runs should be checked with it on.
    /// </summary>
    public bool Convergence { get; init; }

    /// <summary>Explained examples kept per kind; every anomaly is still counted.</summary>
    public int ExamplesPerKind { get; init; } = 8;

    /// <summary>
    /// Refuse (as unusable) a history whose vector clocks would take more than this: chains × written ops × 4
    /// bytes. A history with one process per workflow has as many chains as workflows; it needs sessions.
    /// </summary>
    public long MaxVectorClockBytes { get; init; } = 8L << 30;

    /// <summary>Nodes a search for the path shown in an explanation may visit before it gives up (the anomaly still counts).</summary>
    public int PathSearchBudget { get; init; } = 1_000_000;

    /// <summary>Nodes all those searches together may visit; past it, further explanations name the records but show no path.</summary>
    public long ExplanationBudget { get; init; } = 30_000_000;
}
