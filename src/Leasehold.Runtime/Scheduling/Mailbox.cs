namespace Leasehold.Runtime.Scheduling;

/// <summary>
/// A serial work queue: the items posted to one mailbox run one at a time, in posting order, so the
/// state an actor owns needs no locks. Driver, workers and executors each own one.
/// </summary>
public sealed class Mailbox
{
    internal Mailbox(IScheduler scheduler, string name)
    {
        Scheduler = scheduler;
        Name = name;
        Drainer = new ThreadPoolDrainer(this);
    }

    public IScheduler Scheduler { get; }
    public string Name { get; }
    /// <summary>Runs <paramref name="work"/> on this mailbox after everything posted before it.</summary>
    public void Post(Action work) => Scheduler.Post(this, work);

    /// <summary>Runs <paramref name="handler"/>(<paramref name="state"/>) on this mailbox: no allocation with a static handler.</summary>
    public void Post(Action<object> handler, object state) => Scheduler.Post(this, handler, state);

    /// <summary>Runs <paramref name="work"/> on this mailbox once <paramref name="delay"/> has passed (waiting time, not CPU time).</summary>
    public void PostAfter(TimeSpan delay, Action work)
    {
        if (delay <= TimeSpan.Zero) Scheduler.Post(this, work);
        else PostLater(delay, work);
    }

    // Its own method: the lambda would otherwise allocate its closure on every PostAfter, zero delay included.
    private void PostLater(TimeSpan delay, Action work) => Scheduler.After(delay, () => Scheduler.Post(this, work));

    // Scheduler-private queue state.
    internal readonly System.Collections.Concurrent.ConcurrentQueue<MailboxItem> Queue = new();
    internal int Scheduled;
    /// <summary>The thread-pool work item that drains this mailbox, one for its lifetime: a wake-up allocates nothing.</summary>
    internal readonly ThreadPoolDrainer Drainer;

    public override string ToString() => Name;
}

/// <summary>One queued item: a handler and its state (a plain Action is its own state, run by <see cref="RunAction"/>).</summary>
internal readonly struct MailboxItem(Action<object> handler, object state)
{
    /// <summary>The handler of a plain Action posted as state.</summary>
    internal static readonly Action<object> RunAction = static work => ((Action)work)();

    public static MailboxItem Of(Action work) => new(RunAction, work);

    public void Run() => handler(state);
}

/// <summary>Drains one mailbox on the thread pool (<see cref="ThreadPoolScheduler"/>).</summary>
internal sealed class ThreadPoolDrainer(Mailbox mailbox) : IThreadPoolWorkItem
{
    public void Execute() => ThreadPoolScheduler.Drain(mailbox);
}
