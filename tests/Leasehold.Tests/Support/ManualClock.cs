namespace Leasehold.Tests.Support;

/// <summary>
/// A clock that moves only when the test calls <see cref="Advance"/>; timers made on it (CancellationTokenSource
/// deadlines, Task.Delay, WaitAsync timeouts) fire then and never on their own. For a real-thread test whose
/// outcome is a deadline expiring: the test first waits for the events that must come before the deadline, then
/// moves the clock past it, so how slow the machine is cannot make the deadline expire early.
/// </summary>
internal sealed class ManualClock : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<ManualTimer> _timers = [];
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate) return _now;
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves the clock on by <paramref name="by"/> and runs, on this thread, every timer that came due.</summary>
    public void Advance(TimeSpan by)
    {
        if (by < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(by), by, "the clock cannot go back");
        List<ManualTimer> due;
        lock (_gate)
        {
            _now += by;
            due = _timers.Where(t => t.DueAt <= _now).ToList();
            foreach (var t in due)
            {
                if (t.Period > TimeSpan.Zero && t.Period != Timeout.InfiniteTimeSpan) t.DueAt = _now + t.Period;
                else _timers.Remove(t);
            }
        }
        foreach (var t in due) t.Fire();
    }

    private sealed class ManualTimer(ManualClock clock, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset DueAt;
        public TimeSpan Period;

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
                if (dueTime == Timeout.InfiniteTimeSpan) return true;
                if (dueTime == TimeSpan.Zero && (period <= TimeSpan.Zero || period == Timeout.InfiniteTimeSpan))
                {
                    ThreadPool.QueueUserWorkItem(_ => Fire()); // due now, as a system timer would be
                    return true;
                }
                DueAt = clock._now + dueTime;
                Period = period;
                clock._timers.Add(this);
                return true;
            }
        }

        public void Dispose()
        {
            lock (clock._gate) clock._timers.Remove(this);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
