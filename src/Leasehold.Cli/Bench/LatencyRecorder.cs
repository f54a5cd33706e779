using HdrHistogram;

namespace Leasehold.Cli.Bench;

/// <summary>Latencies in microseconds, recorded from any thread into one HdrHistogram (1 µs to 10 min, 3 digits).</summary>
internal sealed class LatencyRecorder
{
    private readonly LongHistogram _histogram = new(600_000_000, 3);
    private readonly Lock _lock = new();

    public void Record(long microseconds)
    {
        lock (_lock) _histogram.RecordValue(Math.Clamp(microseconds, 1, 600_000_000));
    }

    public long Count
    {
        get { lock (_lock) return _histogram.TotalCount; }
    }

    public double PercentileMs(double percentile)
    {
        lock (_lock) return _histogram.TotalCount == 0 ? 0 : _histogram.GetValueAtPercentile(percentile) / 1000.0;
    }

    public double MaxMs
    {
        get { lock (_lock) return _histogram.TotalCount == 0 ? 0 : _histogram.GetMaxValue() / 1000.0; }
    }
}
