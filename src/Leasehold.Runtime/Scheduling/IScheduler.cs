namespace Leasehold.Runtime.Scheduling;

/// <summary>
/// The world the protocol runs in: mailboxes, timers and the clock. Real threads and the deterministic
/// simulation both implement it; protocol code never knows which one it runs on.
/// </summary>
public interface IScheduler
{
    /// <summary>All time goes through here: the system clock on real threads, virtual time in simulation.</summary>
    TimeProvider Time { get; }

    Mailbox CreateMailbox(string name);

    void Post(Mailbox mailbox, Action work);

    /// <summary>
    /// Posts <paramref name="handler"/>(<paramref name="state"/>): with a static handler and a state object the
    /// caller has anyway, a post allocates nothing (a lambda capturing that state would allocate a closure and
    /// a delegate per post). Same order as <see cref="Post(Mailbox, Action)"/>.
    /// </summary>
    void Post(Mailbox mailbox, Action<object> handler, object state) => Post(mailbox, () => handler(state));

    /// <summary>
    /// Runs <paramref name="action"/> once <paramref name="delay"/> has passed, outside every mailbox,
    /// as a network card would: it must be short, thread-safe, and post anything longer to a mailbox.
    /// Items with the same deadline run in the order they were scheduled.
    /// </summary>
    void After(TimeSpan delay, Action action);

    /// <summary>The first exception thrown by protocol code, if any: an invariant broke and the run is void.</summary>
    Exception? Fault { get; }
}
