using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Messages;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Hosting.Causal;

/// <summary>
/// The deterministic mode's reorderings of the ring, set on the transport by whoever owns it: each ring link delays its
/// ring messages at random, in order; a workflow's hop between the same two servers is not held behind them (it may
/// overtake a write's lap, as on two connections). A real transport needs none: its links are what they are.
/// </summary>
internal static class CausalRingJitter
{
    /// <summary>Jitters the ring links leaving <paramref name="servers"/>; one random stream per link, drawn from the seed in server order.</summary>
    public static void Apply(ITransport transport, CausalOptions options, IEnumerable<int> servers)
    {
        int n = options.Servers;
        if (options.RingJitter <= TimeSpan.Zero || n == 1) return;
        var jitter = new Random(options.Seed ^ 0x5eed);
        var links = new Random[n];
        for (int i = 0; i < n; i++) links[i] = new Random(jitter.Next());
        foreach (int i in servers)
            Link(transport, NodeId.CacheServer(i), NodeId.CacheServer((i + 1) % n), options.RingJitter, links[i]);
    }

    private static void Link(ITransport transport, NodeId from, NodeId to, TimeSpan jitter, Random random)
    {
        switch (transport)
        {
            case InprocTransport inproc: inproc.Jitter(from, to, jitter, random, static m => m is IRingMessage); break;
            case SerialisingInprocTransport serialising: serialising.Jitter(from, to, jitter, random, static type => type.IsAssignableTo(typeof(IRingMessage))); break;
            default: throw new NotSupportedException($"{transport.GetType().Name} cannot delay the ring's links");
        }
    }
}
