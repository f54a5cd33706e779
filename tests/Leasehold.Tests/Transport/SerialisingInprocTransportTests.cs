using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Tests.Transport;

/// <summary>Over the serialising transport a receiver gets its own decoded copy of every message, in link order, from live incarnations only.</summary>
public class SerialisingInprocTransportTests
{
    private sealed class Inbox : IMessageSink
    {
        public readonly List<Message> Received = [];
        public void Receive(Message message) => Received.Add(message);
    }

    [Fact]
    public void A_receiver_gets_a_different_object_equal_in_content_and_stamped_with_its_sender()
    {
        var scheduler = new DeterministicScheduler(seed: 1);
        var transport = new SerialisingInprocTransport(scheduler, TimeSpan.FromMicroseconds(10));
        var driver = transport.Register(NodeId.Driver, new Incarnation(4), scheduler.CreateMailbox("driver"), new Inbox());
        var inbox = new Inbox();
        transport.Register(NodeId.Worker(1), new Incarnation(4), scheduler.CreateMailbox("w1"), inbox);
        var plan = WireMessageGenerators.PlanOf(3);

        driver.Send(NodeId.Worker(1), plan);
        // The sender breaks the rule and edits what it sent: on this transport the receiver cannot see it.
        var sentLeases = plan.Leases.ToArray();
        plan.Leases[0] = plan.Leases[0] with { Holder = 3 };
        scheduler.RunToQuiescence();

        Assert.Null(scheduler.Fault);
        var received = Assert.IsType<PlanMsg>(Assert.Single(inbox.Received));
        Assert.NotSame(plan, received);
        Assert.NotSame(plan.Workflows, received.Workflows);
        Assert.NotSame(plan.Workflows[0].Args, received.Workflows[0].Args);
        Assert.Null(StructuralEquality.FirstDifference(plan with { Leases = sentLeases }, received));
        Assert.Equal(NodeId.Driver, received.From);
        Assert.Equal(new Incarnation(4), received.Incarnation);
        Assert.Equal(1, transport.Messages);
        Assert.True(transport.BytesSent > WireHeader.Size);
    }

    [Fact]
    public void Each_link_keeps_its_order_through_the_codec()
    {
        var scheduler = new DeterministicScheduler(seed: 3, timerBias: 0.5);
        var transport = new SerialisingInprocTransport(scheduler, TimeSpan.FromMicroseconds(50));
        var inbox = new Inbox();
        transport.Register(NodeId.Worker(0), new Incarnation(1), scheduler.CreateMailbox("w0"), inbox);
        var peer = transport.Register(NodeId.Worker(1), new Incarnation(1), scheduler.CreateMailbox("w1"), new Inbox());
        for (int k = 0; k < 40; k++)
        {
            int key = k;
            peer.Mailbox.Post(() => peer.Send(NodeId.Worker(0), new HandedOverMsg(key)));
        }
        scheduler.RunToQuiescence();

        Assert.Null(scheduler.Fault);
        Assert.Equal(Enumerable.Range(0, 40), inbox.Received.Select(m => ((HandedOverMsg)m).KeyId));
    }

    [Fact]
    public void A_message_from_an_older_incarnation_is_refused_and_counted()
    {
        var scheduler = new DeterministicScheduler(seed: 1);
        var transport = new SerialisingInprocTransport(scheduler, TimeSpan.FromMicroseconds(10));
        var oldWorker = transport.Register(NodeId.Worker(0), new Incarnation(1), scheduler.CreateMailbox("w0#1"), new Inbox());
        transport.Register(NodeId.Driver, new Incarnation(1), scheduler.CreateMailbox("driver#1"), new Inbox());
        // In flight across a rollback: sent by incarnation 1, arriving after incarnation 2 registered.
        oldWorker.Send(NodeId.Driver, new WorkerFailedMsg("old"));
        var newInbox = new Inbox();
        transport.Register(NodeId.Driver, new Incarnation(2), scheduler.CreateMailbox("driver#2"), newInbox);
        var newWorker = transport.Register(NodeId.Worker(0), new Incarnation(2), scheduler.CreateMailbox("w0#2"), new Inbox());
        newWorker.Send(NodeId.Driver, new WorkerFailedMsg("new"));
        scheduler.RunToQuiescence();

        Assert.Null(scheduler.Fault);
        Assert.Equal(["new"], newInbox.Received.Select(m => ((WorkerFailedMsg)m).Reason));
        Assert.Equal(new Incarnation(2), newInbox.Received[0].Incarnation);
        Assert.Equal(1, transport.StaleRefused);
        Assert.Contains("stale incarnation", transport.LastRefusal);
        Assert.Contains("worker-0#1", transport.LastRefusal);
    }

    [Fact]
    public void A_frame_the_receiver_refuses_faults_the_run_with_the_reason()
    {
        var scheduler = new DeterministicScheduler(seed: 1);
        var transport = new SerialisingInprocTransport(scheduler, TimeSpan.Zero, WireLimits.Default with { MaxStringChars = 8 });
        var worker = transport.Register(NodeId.Worker(0), new Incarnation(1), scheduler.CreateMailbox("w0"), new Inbox());
        var inbox = new Inbox();
        transport.Register(NodeId.Driver, new Incarnation(1), scheduler.CreateMailbox("driver"), inbox);

        worker.Send(NodeId.Driver, new WorkerFailedMsg("a reason longer than eight"));
        scheduler.RunToQuiescence();

        Assert.Empty(inbox.Received);
        var fault = Assert.IsType<InvalidOperationException>(scheduler.Fault);
        Assert.Contains("FieldOutOfBounds: WorkerFailedMsg.Reason", fault.Message);
        Assert.Contains("worker-0#1", fault.Message);
    }
}
