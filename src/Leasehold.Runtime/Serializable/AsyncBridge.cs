using Leasehold.Runtime.Scheduling;

namespace Leasehold.Runtime.Serializable;

/// <summary>
/// Brings the completion of a store call back onto a mailbox. A call that finished synchronously
/// (the memory engine, and so the deterministic mode) continues at once, in order; one that did not
/// posts its continuation when the I/O completes, from the completing thread (only a post: no thread-pool
/// hop before it, and a completion the deterministic scheduler fires stays on its one thread). A failed call goes to <c>onFailure</c>: store errors
/// are expected events with their own handling, not protocol faults.
/// </summary>
internal static class AsyncBridge
{
    public static void Then(ValueTask task, Mailbox mailbox, Action onSuccess, Action<Exception> onFailure)
    {
        if (task.IsCompletedSuccessfully)
        {
            onSuccess();
            return;
        }
        if (task.IsCompleted)
        {
            onFailure(Unwrap(task.AsTask().Exception));
            return;
        }
        task.AsTask().ContinueWith(done => mailbox.Post(() =>
        {
            if (done.IsCompletedSuccessfully) onSuccess();
            else onFailure(Unwrap(done.Exception));
        }), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public static void Then<T>(ValueTask<T> task, Mailbox mailbox, Action<T> onSuccess, Action<Exception> onFailure)
    {
        if (task.IsCompletedSuccessfully)
        {
            onSuccess(task.Result);
            return;
        }
        if (task.IsCompleted)
        {
            onFailure(Unwrap(task.AsTask().Exception));
            return;
        }
        task.AsTask().ContinueWith(done => mailbox.Post(() =>
        {
            if (done.IsCompletedSuccessfully) onSuccess(done.Result);
            else onFailure(Unwrap(done.Exception));
        }), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static Exception Unwrap(AggregateException? e) =>
        e is null ? new OperationCanceledException("the store call was cancelled")
        : e.InnerExceptions.Count == 1 ? e.InnerExceptions[0] : e;
}
