namespace Leasehold.Runtime.Scheduling;

/// <summary>
/// Real threads: each mailbox drains on the .NET thread pool, at most one thread per mailbox at a time;
/// delayed items go through a <see cref="DeadlineQueue"/> so microsecond waits cost no CPU of the waiter.
/// </summary>
public sealed class ThreadPoolScheduler : IScheduler, ICountsHandoffs, IDisposable
{
    private const int DrainBudget = 64;
    private readonly DeadlineQueue _deadlines;
    private Exception? _fault;

    public ThreadPoolScheduler(TimeProvider? time = null)
    {
        Time = time ?? TimeProvider.System;
        _deadlines = new DeadlineQueue(Time, OnFault);
    }

    public TimeProvider Time { get; }

    public Exception? Fault => Volatile.Read(ref _fault);

    public HandoffCounters Handoffs { get; } = new();

    public Mailbox CreateMailbox(string name) => new(this, name);

    public void Post(Mailbox mailbox, Action work) => Enqueue(mailbox, MailboxItem.Of(work));

    public void Post(Mailbox mailbox, Action<object> handler, object state) => Enqueue(mailbox, new MailboxItem(handler, state));

    private void Enqueue(Mailbox mailbox, MailboxItem work)
    {
        mailbox.Queue.Enqueue(work);
        Handoffs.Posted();
        if (Interlocked.CompareExchange(ref mailbox.Scheduled, 1, 0) == 0)
        {
            Handoffs.WokeUp();
            ThreadPool.UnsafeQueueUserWorkItem(mailbox.Drainer, preferLocal: false);
        }
    }

    public void After(TimeSpan delay, Action action)
    {
        if (delay <= TimeSpan.Zero) action();
        else _deadlines.Schedule(delay, action);
    }

    internal static void Drain(Mailbox mailbox)
    {
        var scheduler = (ThreadPoolScheduler)mailbox.Scheduler;
        for (int i = 0; i < DrainBudget && mailbox.Queue.TryDequeue(out var work); i++)
        {
            try { work.Run(); }
            catch (Exception e) { scheduler.OnFault(e); }
        }
        // A full fence, not a release store: the emptiness check below must not be reordered before the
        // flag clears, or a post that saw the flag still set would strand its item (a lost wake-up).
        Interlocked.Exchange(ref mailbox.Scheduled, 0);
        // Re-arm if something arrived after the last dequeue and before the flag cleared.
        if (!mailbox.Queue.IsEmpty && Interlocked.CompareExchange(ref mailbox.Scheduled, 1, 0) == 0)
        {
            scheduler.Handoffs.WokeUp();
            ThreadPool.UnsafeQueueUserWorkItem(mailbox.Drainer, preferLocal: true);
        }
    }

    private void OnFault(Exception e) => Interlocked.CompareExchange(ref _fault, e, null);

    public void Dispose() => _deadlines.Dispose();
}
