using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Tests.Transport;

/// <summary>A jittered link (the causal ring's reorderings) still delivers in order: CausalMesh's two-lap argument relies on it.</summary>
public class InprocTransportJitterTests
{
    private sealed record Numbered(int N) : Message;

    private sealed class Inbox : IMessageSink
    {
        public readonly List<int> Received = [];
        public void Receive(Message message) => Received.Add(((Numbered)message).N);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_jittered_link_delivers_in_the_order_sent(int seed)
    {
        var scheduler = new DeterministicScheduler(seed, timerBias: 0.3);
        var transport = new InprocTransport(scheduler, TimeSpan.FromMicroseconds(10));
        var inbox = new Inbox();
        var from = transport.Register(NodeId.CacheServer(0), new Incarnation(0), scheduler.CreateMailbox("from"), new Inbox());
        transport.Register(NodeId.CacheServer(1), new Incarnation(0), scheduler.CreateMailbox("to"), inbox);
        transport.Jitter(from.Node, NodeId.CacheServer(1), TimeSpan.FromMicroseconds(1268), new Random(seed));
        var random = new Random(seed * 7);
        int sent = 0;
        // Sends at odd virtual times (other traffic's deadlines are not whole 100 ns ticks), a few at a time.
        for (int i = 0; i < 300; i++)
            scheduler.After(TimeSpan.FromTicks(random.Next(1, 50_000)), () => from.Mailbox.Post(() =>
            {
                for (int k = random.Next(1, 3); k > 0; k--) from.Send(NodeId.CacheServer(1), new Numbered(sent++));
            }));
        scheduler.RunToQuiescence();
        Assert.Null(scheduler.Fault);
        Assert.Equal(sent, inbox.Received.Count);
        Assert.Equal(sent, transport.Messages);
        for (int i = 0; i < inbox.Received.Count; i++)
            Assert.True(inbox.Received[i] == i, $"seed {seed}: message {inbox.Received[i]} delivered {i}th: the link reordered");
    }

    [Fact]
    public void Jitter_delays_only_its_own_link()
    {
        var scheduler = new DeterministicScheduler(1);
        var transport = new InprocTransport(scheduler, TimeSpan.FromMicroseconds(10));
        var arrivals = new Dictionary<NodeId, TimeSpan>();
        var start = scheduler.Time.GetUtcNow();
        var a = transport.Register(NodeId.CacheServer(0), new Incarnation(0), scheduler.CreateMailbox("a"), new Inbox());
        foreach (int i in new[] { 1, 2 })
        {
            var node = NodeId.CacheServer(i);
            transport.Register(node, new Incarnation(0), scheduler.CreateMailbox($"s{i}"), new Sink(() => arrivals[node] = scheduler.Time.GetUtcNow() - start));
        }
        transport.Jitter(a.Node, NodeId.CacheServer(1), TimeSpan.FromMilliseconds(5), new ConstantRandom(0.5));
        a.Mailbox.Post(() =>
        {
            a.Send(NodeId.CacheServer(1), new Numbered(0));
            a.Send(NodeId.CacheServer(2), new Numbered(0));
        });
        scheduler.RunToQuiescence();
        Assert.Equal(TimeSpan.FromMicroseconds(10) + TimeSpan.FromMilliseconds(2.5), arrivals[NodeId.CacheServer(1)]);
        Assert.Equal(TimeSpan.FromMicroseconds(10), arrivals[NodeId.CacheServer(2)]);
    }

    private sealed class Sink(Action onReceive) : IMessageSink
    {
        public void Receive(Message message) => onReceive();
    }

    private sealed class ConstantRandom(double value) : Random
    {
        public override double NextDouble() => value;
    }
}
