namespace Leasehold.Runtime.Scheduling;

/// <summary>
/// Hand-offs between threads, the cost the bench reports per committed transaction: items posted to
/// mailboxes, and wake-ups (a mailbox with nobody draining it handed to a thread: on real threads, one
/// thread-pool queueing of its drain). Posts that land in a mailbox already being drained cost no wake-up.
/// </summary>
public sealed class HandoffCounters
{
    private long _posts;
    private long _wakeups;

    public long Posts => Interlocked.Read(ref _posts);
    public long Wakeups => Interlocked.Read(ref _wakeups);

    internal void Posted() => Interlocked.Increment(ref _posts);
    internal void WokeUp() => Interlocked.Increment(ref _wakeups);
}

/// <summary>A scheduler that counts its hand-offs (both built-in ones do).</summary>
public interface ICountsHandoffs
{
    HandoffCounters Handoffs { get; }
}
