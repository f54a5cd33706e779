namespace Leasehold.Runtime.Hosting;

/// <summary>
/// Stopping: no new request is admitted, the admitted ones finish (or, past
/// <see cref="Serializable.ClusterOptions.StopDrainTimeout"/>, are ended with a status that says what
/// may have happened), the last incarnation is retired once its store calls have returned, and the
/// store is disposed only when the cluster owns it.
/// </summary>
public sealed partial class SerializableCluster
{
    private const string StoppedReason = "the cluster was stopped (StopAsync or DisposeAsync)";
    private const string StoppedRefusal = "the cluster is stopped (StopAsync or DisposeAsync was called): it admits no new requests";
    /// <summary>How often a stop checks whether the admitted requests have all been answered, in the scheduler's time.</summary>
    private static readonly TimeSpan DrainPoll = TimeSpan.FromMilliseconds(1);

    private readonly bool _ownsStore;
    private bool _stopping;
    private Task? _stopped;
    private int _released;

    /// <summary>
    /// Stops the cluster; idempotent (every call returns the same task). Requests submitted from now on are
    /// Rejected; those already admitted finish normally, unless they are still running after
    /// <see cref="Serializable.ClusterOptions.StopDrainTimeout"/>: then each is answered Unknown when its
    /// batch's input may be in the log (the next start re-executes it; an idempotency key tells its
    /// result) or Failed when it certainly did not run. Completes once every caller is answered and no
    /// store call of the cluster is still running; then the store is disposed if the cluster owns it.
    /// In the deterministic mode, run the scheduler until the task completes.
    /// </summary>
    public Task StopAsync()
    {
        lock (_gate)
        {
            if (_stopped is not null) return _stopped;
            Volatile.Write(ref _stopping, true);
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _stopped = done.Task;
            long since = Scheduler.Time.GetTimestamp();
            _supervisor.Post(() => Drain(since, endedInFlight: false, done));
            return _stopped;
        }
    }

    /// <summary>As <see cref="StopAsync"/>.</summary>
    public ValueTask DisposeAsync() => new(StopAsync());

    /// <summary>On the supervisor: waits for the admitted requests, ends them past the deadline, then retires the cluster.</summary>
    private void Drain(long since, bool endedInFlight, TaskCompletionSource done)
    {
        if (TryRetire(out var last))
        {
            // The retired incarnation's queued work may still run, but it reaches neither the store nor a caller.
            // Its store calls get StoreCallDeadline to return before the store is disposed: one that never
            // returns (an engine without timeouts) must not keep the stop from completing.
            if (last is null) Release(done);
            else
            {
                last.Generation.Supersede(() => Release(done));
                _supervisor.PostAfter(Options.StoreCallDeadline, () => Release(done));
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
        _supervisor.PostAfter(DrainPoll, () => Drain(since, endedInFlight, done));
    }

    /// <summary>Takes the cluster out of service once no admitted request is waiting for an answer.</summary>
    private bool TryRetire(out Incarnation? last)
    {
        lock (_gate)
        {
            last = _last;
            if (Outstanding > 0 || _parked.Count > 0) return false;
            _halted ??= StoppedReason;
            _live = null;
            return true;
        }
    }

    private void Release(TaskCompletionSource done)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        if (!_ownsStore)
        {
            done.TrySetResult();
            return;
        }
        ValueTask disposal;
        try { disposal = Store.DisposeAsync(); }
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
