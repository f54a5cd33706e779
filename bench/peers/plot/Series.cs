namespace Leasehold.Peers;

/// <summary>All the points of one system in one setting, across the client sweep.</summary>
public sealed class Series(string id, IReadOnlyList<Point> points)
{
    public string Id { get; } = id;
    public string Label { get; } = points[0].Label;

    /// <summary>Every point of the series, measured or missing.</summary>
    public IReadOnlyList<Point> Points { get; } = points;

    /// <summary>Measured points in ascending client count.</summary>
    public IReadOnlyList<Point> Measured { get; } = points.Where(p => p.Measured).OrderBy(p => p.Clients).ToList();

    /// <summary>Why the series has no measurement at all (the first reason given), else null.</summary>
    public string? Missing { get; } = points.All(p => !p.Measured) ? points.OrderBy(p => p.Clients).First().Missing : null;

    /// <summary>The point of highest throughput: the system at its best client count (ties: fewer clients).</summary>
    public Point? Best => Measured.OrderByDescending(p => p.Tps).ThenBy(p => p.Clients).FirstOrDefault();

    /// <summary>Run at a fixed arrival rate, not a client count: no best client count, not in the plot.</summary>
    public bool OpenLoop { get; } = points.All(p => p.OpenLoop);

    public Point? At(int clients) => Measured.FirstOrDefault(p => p.Clients == clients);

    public static IReadOnlyList<Series> Group(IEnumerable<Point> points) => points
        .GroupBy(p => p.Series, StringComparer.Ordinal)
        .OrderBy(g => g.Key, StringComparer.Ordinal)
        .Select(g => new Series(g.Key, g.ToList()))
        .ToList();
}
