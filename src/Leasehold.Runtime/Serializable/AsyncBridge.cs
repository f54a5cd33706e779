using Leasehold.Runtime.Scheduling;

namespace Leasehold.Runtime.Serializable;

/// <summary>
/// Brings the completion of a store call back onto a mailbox. A call that finished synchronously
/// (the memory engine, and so the deterministic mode) continues at once, in order; one that did not
/// posts its continuation when the I/O completes.
/// </summary>
internal static class AsyncBridge
{
    public static void Then(ValueTask task, Mailbox mailbox, Action continuation)
    {
        if (task.IsCompletedSuccessfully)
        {
            continuation();
            return;
        }
        task.AsTask().ContinueWith(done => mailbox.Post(() =>
        {
            done.GetAwaiter().GetResult(); // a failed store call faults the mailbox with its cause
            continuation();
        }), TaskScheduler.Default);
    }

    public static void Then<T>(ValueTask<T> task, Mailbox mailbox, Action<T> continuation)
    {
        if (task.IsCompletedSuccessfully)
        {
            continuation(task.Result);
            return;
        }
        task.AsTask().ContinueWith(done => mailbox.Post(() => continuation(done.GetAwaiter().GetResult())), TaskScheduler.Default);
    }
}
