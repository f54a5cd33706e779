namespace Leasehold.Runtime.Scheduling;

/// <summary>Virtual time for the deterministic mode: it moves only when the scheduler jumps to the next timer.</summary>
public sealed class VirtualTimeProvider : TimeProvider
{
    private static readonly DateTimeOffset Epoch = new(2025, 7, 7, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Virtual nanoseconds since the start of the run.</summary>
    public long Nanoseconds { get; private set; }

    public override long TimestampFrequency => 1_000_000_000;

    public override long GetTimestamp() => Nanoseconds;

    public override DateTimeOffset GetUtcNow() => Epoch.AddTicks(Nanoseconds / 100);

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    internal void AdvanceTo(long nanoseconds)
    {
        if (nanoseconds < Nanoseconds) throw new InvalidOperationException("virtual time cannot go back");
        Nanoseconds = nanoseconds;
    }
}
