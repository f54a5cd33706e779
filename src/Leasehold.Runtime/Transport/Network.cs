using Leasehold.Runtime.Scheduling;

namespace Leasehold.Runtime.Transport;

/// <summary>
/// Messages between nodes: ordered per link, each hop costing <see cref="LinkLatency"/> of waiting time.
/// A constant latency with first-in-first-out deadlines keeps every link in order.
/// </summary>
public sealed class Network(IScheduler scheduler, TimeSpan linkLatency)
{
    private long _messages;

    public TimeSpan LinkLatency { get; } = linkLatency;
    public long Messages => Interlocked.Read(ref _messages);

    /// <summary>Delivers <paramref name="handler"/> to <paramref name="to"/>; a send to oneself is local and free.</summary>
    public void Send(Mailbox from, Mailbox to, Action handler) => Send(from, to, MailboxItem.RunAction, handler);

    /// <summary>Delivers <paramref name="handler"/>(<paramref name="state"/>): a handler bound once and a state the sender has anyway allocate nothing.</summary>
    public void Send(Mailbox from, Mailbox to, Action<object> handler, object state)
    {
        if (ReferenceEquals(from, to) || LinkLatency <= TimeSpan.Zero)
        {
            if (!ReferenceEquals(from, to)) Interlocked.Increment(ref _messages);
            scheduler.Post(to, handler, state);
            return;
        }
        Interlocked.Increment(ref _messages);
        SendLater(to, handler, state);
    }

    // Its own method: a lambda capturing the parameters in Send would allocate its closure on every send, delayed or not.
    private void SendLater(Mailbox to, Action<object> handler, object state) =>
        scheduler.After(LinkLatency, () => scheduler.Post(to, handler, state));
}
