namespace Leasehold.Runtime.Serializable;

/// <summary>
/// Delivers a result to everyone waiting for it. The callbacks are user code, and they run on the
/// driver's mailbox: one that throws must neither skip the callbacks after it (retries attached with the
/// same idempotency key) nor reach the scheduler, which would take it for a broken protocol invariant and
/// stop the cluster. Its exception is counted and kept for the application to inspect instead.
/// </summary>
internal static class ResultCallbacks
{
    public static void Deliver(Action<WorkflowResult> callbacks, WorkflowResult result, ClusterCounters counters)
    {
        if (callbacks.HasSingleTarget)
        {
            Invoke(callbacks, result, counters);
            return;
        }
        foreach (var callback in callbacks.GetInvocationList())
            Invoke((Action<WorkflowResult>)callback, result, counters);
    }

    private static void Invoke(Action<WorkflowResult> callback, WorkflowResult result, ClusterCounters counters)
    {
        try { callback(result); }
        catch (Exception e) { counters.CallbackFailed(e); }
    }
}
