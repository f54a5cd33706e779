using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Tests.Transport;

/// <summary>The in-process transport's contract: ordered links, stamped senders, stale incarnations refused.</summary>
public class InprocTransportTests
{
    private sealed record Numbered(int N) : Message;

    private sealed class Inbox : IMessageSink
    {
        public readonly List<Message> Received = [];
        public void Receive(Message message) => Received.Add(message);
    }

    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(50, 0.0)]
    [InlineData(50, 0.5)]
    public void Each_link_delivers_in_the_order_sent_whatever_the_interleaving(int latencyUs, double timerBias)
    {
        for (int seed = 1; seed <= 20; seed++)
        {
            var scheduler = new DeterministicScheduler(seed, timerBias);
            var transport = new InprocTransport(scheduler, TimeSpan.FromMicroseconds(latencyUs));
            var inbox = new Inbox();
            var receiver = transport.Register(NodeId.Driver, new Incarnation(1), scheduler.CreateMailbox("driver"), inbox);
            var senders = Enumerable.Range(0, 3)
                .Select(i => transport.Register(NodeId.Worker(i), new Incarnation(1), scheduler.CreateMailbox($"w{i}"), new Inbox()))
                .ToArray();
            // Each sender sends from its own mailbox, interleaved by the seed, some after a delay.
            foreach (var sender in senders)
                for (int n = 0; n < 50; n++)
                {
                    int k = n;
                    if (n % 7 == 3) sender.Mailbox.PostAfter(TimeSpan.FromMicroseconds(5), () => sender.Send(NodeId.Driver, new Numbered(k)));
                    else sender.Mailbox.Post(() => sender.Send(NodeId.Driver, new Numbered(k)));
                }
            scheduler.RunToQuiescence();
            Assert.Null(scheduler.Fault);
            Assert.Equal(150, inbox.Received.Count);
            foreach (var sender in senders)
            {
                var fromIt = inbox.Received.Where(m => m.From == sender.Node).ToList();
                Assert.True(fromIt.All(m => m.Incarnation == new Incarnation(1)), $"seed {seed}: a message lost its stamp");
                // Sends from one mailbox happen in its run order; the link must keep that order.
                var sentOrder = fromIt.Select(m => ((Numbered)m).N).ToList();
                Assert.Equal(50, sentOrder.Distinct().Count());
                var expected = Enumerable.Range(0, 50).Where(n => n % 7 != 3).Concat(Enumerable.Range(0, 50).Where(n => n % 7 == 3)).ToList();
                Assert.True(expected.SequenceEqual(sentOrder), $"seed {seed}: link {sender.Node}->driver reordered: {string.Join(",", sentOrder)}");
            }
        }
    }

    [Fact]
    public void A_message_from_an_older_incarnation_is_refused_and_counted()
    {
        var scheduler = new DeterministicScheduler(seed: 1);
        var transport = new InprocTransport(scheduler, TimeSpan.FromMicroseconds(10));
        var oldWorker = transport.Register(NodeId.Worker(0), new Incarnation(1), scheduler.CreateMailbox("w0#1"), new Inbox());
        transport.Register(NodeId.Driver, new Incarnation(1), scheduler.CreateMailbox("driver#1"), new Inbox());
        // In flight across a rollback: sent by incarnation 1, arriving after incarnation 2 registered.
        oldWorker.Send(NodeId.Driver, new Numbered(1));
        var newInbox = new Inbox();
        transport.Register(NodeId.Driver, new Incarnation(2), scheduler.CreateMailbox("driver#2"), newInbox);
        var newWorker = transport.Register(NodeId.Worker(0), new Incarnation(2), scheduler.CreateMailbox("w0#2"), new Inbox());
        newWorker.Send(NodeId.Driver, new Numbered(2));
        scheduler.RunToQuiescence();

        Assert.Equal([2], newInbox.Received.Select(m => ((Numbered)m).N));
        Assert.Equal(1, transport.StaleRefused);
        Assert.Contains("stale incarnation", transport.LastRefusal);
        Assert.Contains("worker-0#1", transport.LastRefusal);
    }

    [Fact]
    public void A_newer_incarnation_is_refused_by_a_node_that_has_not_caught_up()
    {
        var scheduler = new DeterministicScheduler(seed: 1);
        var transport = new InprocTransport(scheduler, TimeSpan.Zero);
        var inbox = new Inbox();
        transport.Register(NodeId.Driver, new Incarnation(1), scheduler.CreateMailbox("driver#1"), inbox);
        var worker = transport.Register(NodeId.Worker(0), new Incarnation(2), scheduler.CreateMailbox("w0#2"), new Inbox());
        worker.Send(NodeId.Driver, new Numbered(1));
        scheduler.RunToQuiescence();
        Assert.Empty(inbox.Received);
        Assert.Equal(1, transport.StaleRefused);
    }

    [Fact]
    public void A_message_to_no_registered_node_is_dropped_with_the_reason()
    {
        var scheduler = new DeterministicScheduler(seed: 1);
        var transport = new InprocTransport(scheduler, TimeSpan.Zero);
        var worker = transport.Register(NodeId.Worker(0), new Incarnation(1), scheduler.CreateMailbox("w0"), new Inbox());
        worker.Send(NodeId.Worker(5), new Numbered(1));
        scheduler.RunToQuiescence();
        Assert.Equal(1, transport.Undeliverable);
        Assert.Contains("worker-5: no such node", transport.LastRefusal);
    }

    [Fact]
    public void A_send_to_oneself_is_delivered_locally_and_not_counted_as_a_message()
    {
        var scheduler = new DeterministicScheduler(seed: 1);
        var transport = new InprocTransport(scheduler, TimeSpan.FromMilliseconds(1));
        var inbox = new Inbox();
        var worker = transport.Register(NodeId.Worker(0), new Incarnation(1), scheduler.CreateMailbox("w0"), inbox);
        worker.Send(NodeId.Worker(0), new Numbered(7));
        scheduler.RunToQuiescence();
        Assert.Single(inbox.Received);
        Assert.Equal(0, transport.Messages);
        Assert.Equal(0, scheduler.VirtualTime.Nanoseconds); // no link latency paid
    }

    [Fact]
    public void Node_ids_pack_into_one_word_and_back()
    {
        foreach (var id in new[] { NodeId.Driver, NodeId.Worker(0), NodeId.Worker(65535), NodeId.CacheServer(3), NodeId.Client(1) })
        {
            Assert.True(NodeId.TryUnpack(id.Packed, out var back));
            Assert.Equal(id, back);
        }
        Assert.False(NodeId.TryUnpack(9 << 16, out _));
    }
}
