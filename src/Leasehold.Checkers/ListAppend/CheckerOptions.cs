namespace Leasehold.Checkers.ListAppend;

public sealed record CheckerOptions
{
    /// <summary>Add real-time edges: a transaction that completed before another was invoked precedes it (strict serializability).</summary>
    public bool Strict { get; init; }

    /// <summary>Explained examples kept per kind; every anomaly is still counted.</summary>
    public int ExamplesPerKind { get; init; } = 8;

    /// <summary>How many rw edges of one strongly connected component are tried when looking for a G-single cycle.</summary>
    public int SingleRwTries { get; init; } = 512;
}
