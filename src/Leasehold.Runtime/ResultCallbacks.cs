namespace Leasehold.Runtime;

/// <summary>
/// Delivers results to the callbacks waiting for them, in both modes. The callbacks are user code running on
/// the cluster's mailboxes: one that throws must neither skip the callbacks after it (retries attached with
/// the same idempotency key) nor reach the scheduler, which would take it for a broken protocol invariant and
/// stop the cluster (or, during a stop, leave the other callers unanswered). Its exception is counted and kept
/// for the application to inspect instead.
/// </summary>
internal sealed class ResultCallbacks
{
    private long _failures;
    private Exception? _lastFailure;

    /// <summary>Callbacks that threw; the cluster caught them and went on.</summary>
    public long Failures => Interlocked.Read(ref _failures);
    /// <summary>The exception of the latest callback that threw, or null.</summary>
    public Exception? LastFailure => Volatile.Read(ref _lastFailure);

    public void Deliver<TResult>(Action<TResult> callbacks, TResult result)
    {
        if (callbacks.HasSingleTarget)
        {
            Invoke(callbacks, result);
            return;
        }
        foreach (var callback in callbacks.GetInvocationList())
            Invoke((Action<TResult>)callback, result);
    }

    private void Invoke<TResult>(Action<TResult> callback, TResult result)
    {
        try { callback(result); }
        catch (Exception e)
        {
            Volatile.Write(ref _lastFailure, e);
            Interlocked.Increment(ref _failures);
        }
    }
}
