namespace Leasehold.Runtime.Serializable.Recovery;

/// <summary>
/// Stopping: no new request is admitted, the admitted ones finish (or, past
/// <see cref="ClusterOptions.StopDrainTimeout"/>, are ended with a status that says what may have
/// happened), and the last incarnation is retired once its store calls have returned.
/// </summary>
internal sealed partial class IncarnationSupervisor
{
    public const string StoppedReason = "the cluster was stopped (StopAsync or DisposeAsync)";
    public const string StoppedRefusal = "the cluster is stopped (StopAsync or DisposeAsync was called): it admits no new requests";
    /// <summary>How often a stop checks whether the admitted requests have all been answered, in the scheduler's time.</summary>
    private static readonly TimeSpan DrainPoll = TimeSpan.FromMilliseconds(1);

    private bool _stopping;
    private Task? _stopped;
    private int _released;

    /// <summary>True once a stop began: requests are refused from then on.</summary>
    public bool Stopping => Volatile.Read(ref _stopping);

    /// <summary>
    /// Stops for good; idempotent (every call returns the same task). Completes once no admitted request is
    /// waiting for an answer (<paramref name="outstanding"/> counts them) and no store call of the last
    /// incarnation is still running — or, for a call that never returns, after <see cref="ClusterOptions.StoreCallDeadline"/> —
    /// and <paramref name="release"/> (the store's disposal, when the cluster owns it) has finished.
    /// </summary>
    public Task StopAsync(Func<int> outstanding, Func<ValueTask>? release)
    {
        lock (_gate)
        {
            if (_stopped is not null) return _stopped;
            Volatile.Write(ref _stopping, true);
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _stopped = done.Task;
            long since = Scheduler.Time.GetTimestamp();
            _supervisor.Post(() => Drain(outstanding, release, since, endedInFlight: false, done));
            return _stopped;
        }
    }

    /// <summary>On the supervisor: waits for the admitted requests, ends them past the deadline, then retires the cluster.</summary>
    private void Drain(Func<int> outstanding, Func<ValueTask>? release, long since, bool endedInFlight, TaskCompletionSource done)
    {
        if (TryRetire(outstanding, out var last))
        {
            // The retired incarnation's queued work may still run, but it reaches neither the store nor a caller.
            // Its store calls get StoreCallDeadline to return before the store may be disposed: one that never
            // returns (an engine without timeouts) must not keep the stop from completing.
            if (last is null) Release(release, done);
            else
            {
                last.Supersede(() => Release(release, done));
                if (Options.StoreCallDeadline != Timeout.InfiniteTimeSpan) _supervisor.PostAfter(Options.StoreCallDeadline, () => Release(release, done));
            }
            return;
        }
        if (!endedInFlight && Scheduler.Time.GetElapsedTime(since) >= Options.StopDrainTimeout)
        {
            endedInFlight = true;
            Incarnation? live;
            lock (_gate) live = _live;
            // The failure path answers every request the driver holds; recovery sees the stop and does not rebuild.
            if (live is not null) live.Driver.Mailbox.Post(() => live.Driver.Fail($"{StoppedReason} before the batch committed", commitInDoubt: null));
        }
        _supervisor.PostAfter(DrainPoll, () => Drain(outstanding, release, since, endedInFlight, done));
    }

    /// <summary>Takes the cluster out of service once no admitted request is waiting for an answer.</summary>
    private bool TryRetire(Func<int> outstanding, out Incarnation? last)
    {
        lock (_gate)
        {
            last = _last;
            if (outstanding() > 0 || _parked.Count > 0) return false;
            _halted ??= StoppedReason;
            _live = null;
            return true;
        }
    }

    /// <summary>Once: runs <paramref name="release"/>, then completes the stop (in line when the release is, so the deterministic mode sees it).</summary>
    private void Release(Func<ValueTask>? release, TaskCompletionSource done)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        if (release is null)
        {
            done.TrySetResult();
            return;
        }
        ValueTask disposal;
        try { disposal = release(); }
        catch (Exception e)
        {
            done.TrySetException(e);
            return;
        }
        if (disposal.IsCompletedSuccessfully) done.TrySetResult();
        else disposal.AsTask().ContinueWith(t =>
        {
            if (t.Exception is { } e) done.TrySetException(e.InnerExceptions);
            else done.TrySetResult();
        }, TaskScheduler.Default);
    }
}
