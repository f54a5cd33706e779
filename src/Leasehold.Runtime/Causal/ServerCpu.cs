using Leasehold.Runtime.Scheduling;

namespace Leasehold.Runtime.Causal;

/// <summary>
/// A modelled processor for one server in the deterministic mode, where handlers take no virtual time:
/// each delivery occupies the server for a service time, one at a time in arrival order, and takes
/// effect when it is served. It turns "how many servers" into a throughput that saturates as a real
/// server would; the costs are a model (<see cref="CausalOptions.MessageServiceTime"/>), not a measurement.
/// With zero costs (real threads) a delivery runs at once.
/// </summary>
internal sealed class ServerCpu(IScheduler scheduler, Mailbox mailbox)
{
    private DateTimeOffset _busyUntil = DateTimeOffset.MinValue;

    public TimeSpan Busy { get; private set; }

    /// <summary>On the server's mailbox: run <paramref name="handler"/> once the server is free and <paramref name="cost"/> has passed.</summary>
    public void Serve(TimeSpan cost, Action handler)
    {
        if (cost <= TimeSpan.Zero)
        {
            handler();
            return;
        }
        var now = scheduler.Time.GetUtcNow();
        var start = _busyUntil > now ? _busyUntil : now;
        _busyUntil = start + cost;
        Busy += cost;
        mailbox.PostAfter(_busyUntil - now, handler);
    }
}
