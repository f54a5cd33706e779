using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Links;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Tests.Transport.Conformance;

namespace Leasehold.Tests.Transport.Links;

/// <summary>
/// Incarnations fence across processes as they do in one: a stale sender's message is refused at the receiver,
/// a one-sided operation through a retired key lands unseen in the retired region and reports success, one
/// through a dropped incarnation's key leads nowhere, and a key never registered fences the link, naming it.
/// </summary>
public class LinkFencingTests : IAsyncLifetime
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);
    private readonly ThreadPoolScheduler _s0 = new(), _s1 = new();
    private LinkTransport _p0 = null!, _p1 = null!;
    private LinkOneSided _m0 = null!, _m1 = null!;
    private readonly TaskCompletionSource<string> _p1LostP0 = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task InitializeAsync()
    {
        var map = LinkTestMaps.Map(LinkTestMaps.Addresses(unix: true, 2));
        _p0 = new LinkTransport(map, "p0", LinkTestMaps.Key, _s0);
        _p1 = new LinkTransport(map, "p1", LinkTestMaps.Key, _s1);
        _m0 = new LinkOneSided(_p0);
        _m1 = new LinkOneSided(_p1);
        _p1.LinkLost += (peer, reason) => { if (peer == "p0") _p1LostP0.TrySetResult(reason); };
        await Task.WhenAll(_p0.StartAsync(), _p1.StartAsync()).WaitAsync(HangGuard);
    }

    public async Task DisposeAsync()
    {
        await _p0.DisposeAsync();
        await _p1.DisposeAsync();
        Assert.Null(_s0.Fault);
        Assert.Null(_s1.Fault);
        _s0.Dispose();
        _s1.Dispose();
    }

    [Fact]
    public async Task A_message_from_a_stale_incarnation_is_refused_and_counted_with_its_reason_and_one_to_no_node_is_dropped()
    {
        var recorder = new Recorder();
        _p0.Register(NodeId.Worker(0), new Incarnation(2), _s0.CreateMailbox("worker-0"), recorder);
        var stale = _p1.Register(NodeId.Worker(1), new Incarnation(1), _s1.CreateMailbox("worker-1 #1"), new Recorder());
        var current = _p1.Register(NodeId.CacheServer(1), new Incarnation(2), _s1.CreateMailbox("server-1 #2"), new Recorder());
        stale.Send(NodeId.Worker(0), new PeerExecutedMsg(1));
        stale.Send(NodeId.CacheServer(0), new PeerExecutedMsg(2)); // hosted by p0, registered by nobody
        var arrived = recorder.Reached(1);
        current.Send(NodeId.Worker(0), new PeerExecutedMsg(3)); // after both on the same connection: once it is in, they were handled
        await arrived.WaitAsync(HangGuard);

        Assert.Equal([3L], recorder.Received.Select(m => ((PeerExecutedMsg)m).Batch));
        Assert.Equal(1, _p0.StaleRefused);
        Assert.Equal(1, _p0.Undeliverable);
        Assert.Contains("no such node", _p0.LastRefusal);
        Assert.Empty(_p0.LostLinks);
    }

    [Fact]
    public async Task A_remote_write_through_a_retired_key_reports_success_and_lands_only_in_the_retired_region()
    {
        var old = new RegionKey(0, 1);
        var fresh = new RegionKey(0, 2);
        var oldRegion = new RegionMemory(owner: 0);
        var freshRegion = new RegionMemory(owner: 0);
        _m0.Register(old, oldRegion);
        _m0.Register(fresh, freshRegion);
        Assert.Equal(1, _m0.RetireIncarnation(1));
        var requester = _s1.CreateMailbox("fenced worker");

        await _m1.WriteValueThenFlagAsync(old, 9, [7], 2, requester).WaitAsync(HangGuard);
        Assert.True(await _m1.CompareAndSwapAsync(old, 10, RegionMemory.NoOwner, 3, requester).WaitAsync(HangGuard));

        var landed = oldRegion.Read(9);
        Assert.Equal(2, landed.Flag);
        Assert.Equal(new byte[] { 7 }, landed.Value);
        Assert.Equal(RegionMemory.NoOwner, freshRegion.Flag(9));
        Assert.Equal(RegionMemory.NoOwner, freshRegion.Flag(10));
        Assert.Equal(2, _m0.LandedInRetired);
        Assert.Equal(2, _m0.Served);

        // Dropped: the old keys now lead nowhere, and a read through one sees an empty slot.
        Assert.Equal(1, _m0.DropIncarnation(1));
        var nowhere = await _m1.ReadAsync(old, 9, requester).WaitAsync(HangGuard);
        Assert.Equal(RegionMemory.NoOwner, nowhere.Flag);
        Assert.Null(nowhere.Value);
        Assert.Empty(_p1.LostLinks);
    }

    [Fact]
    public async Task A_remote_operation_through_a_key_never_registered_fences_the_link_and_names_the_key()
    {
        _m0.Register(new RegionKey(0, 1), new RegionMemory(owner: 0));
        var requester = _s1.CreateMailbox("requester");
        var never = _m1.ReadAsync(new RegionKey(0, 5), 1, requester);
        var reason = await _p1LostP0.Task.WaitAsync(HangGuard);
        Assert.Contains("the peer closed the connection", reason);
        Assert.Contains(_p0.LostLinks, l => l.Peer == "p1" && l.Reason.Contains("region of node 0, incarnation 5") && l.Reason.Contains("never registered"));
        Assert.False(never.IsCompleted);
        Assert.Equal(0, _m1.PendingOperations);
    }
}
