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
    }

    public IScheduler Scheduler { get; }
    public string Name { get; }
    /// <summary>Runs <paramref name="work"/> on this mailbox after everything posted before it.</summary>
    public void Post(Action work) => Scheduler.Post(this, work);

    /// <summary>Runs <paramref name="work"/> on this mailbox once <paramref name="delay"/> has passed (waiting time, not CPU time).</summary>
    public void PostAfter(TimeSpan delay, Action work)
    {
        if (delay <= TimeSpan.Zero) Scheduler.Post(this, work);
        else Scheduler.After(delay, () => Scheduler.Post(this, work));
    }

    // Scheduler-private queue state.
    internal readonly System.Collections.Concurrent.ConcurrentQueue<Action> Queue = new();
    internal int Scheduled;

    public override string ToString() => Name;
}
