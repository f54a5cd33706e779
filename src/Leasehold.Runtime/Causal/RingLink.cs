using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Causal;

/// <summary>
/// One ordered, pipelined ring link (§3's Decision): messages are sent at once, never one per round
/// trip, and delivered in the order sent. With jitter (the deterministic mode's reorderings), each
/// message is delayed at random but never before the one sent ahead of it.
/// </summary>
internal sealed class RingLink(IScheduler scheduler, Network network, Mailbox from, Mailbox to, TimeSpan latency, TimeSpan jitter, Random? random, ServerCpu cpu, TimeSpan cost)
{
    private DateTimeOffset _lastDelivery = DateTimeOffset.MinValue;
    private long _sent;
    private readonly Queue<Action> _inFlight = new();

    public long Sent => Interlocked.Read(ref _sent);
    /// <summary>A ring of one server: the link loops back, and its messages never leave the server.</summary>
    public bool ToSelf => ReferenceEquals(from, to);

    public void Send(Action message)
    {
        Interlocked.Increment(ref _sent);
        Action handler = cost > TimeSpan.Zero ? () => cpu.Serve(cost, message) : message;
        if (jitter <= TimeSpan.Zero || random is null)
        {
            network.Send(from, to, handler); // a constant latency keeps the link in order
            return;
        }
        var now = scheduler.Time.GetUtcNow();
        var at = now + latency + TimeSpan.FromTicks((long)(random.NextDouble() * jitter.Ticks));
        if (at < _lastDelivery) at = _lastDelivery; // equal deadlines run in the order they were scheduled
        _lastDelivery = at;
        // Each timer delivers the oldest message in flight, not its own: timers that round to the same instant
        // (virtual time is in ns, GetUtcNow in 100 ns ticks) may fire in either order, the link may not.
        lock (_inFlight) _inFlight.Enqueue(handler);
        scheduler.After(at - now, () =>
        {
            Action next;
            lock (_inFlight) next = _inFlight.Dequeue();
            scheduler.Post(to, next);
        });
    }
}
