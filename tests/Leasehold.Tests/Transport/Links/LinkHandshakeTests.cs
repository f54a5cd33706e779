using System.Collections.Concurrent;
using System.Net.Sockets;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Links;
using Leasehold.Runtime.Transport.Membership;
using Leasehold.Tests.Support;
using Leasehold.Tests.Transport.Conformance;

namespace Leasehold.Tests.Transport.Links;

/// <summary>
/// Who may join: a process must hold the cluster key, belong to the cluster, and be named in the map. A refused
/// connection is closed, counted and logged with its reason, and nothing it sent is delivered.
/// </summary>
public class LinkHandshakeTests : IAsyncLifetime
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);
    private readonly List<(LinkTransport Transport, ThreadPoolScheduler Scheduler)> _made = [];
    private readonly ConcurrentQueue<string> _log = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (transport, scheduler) in _made)
        {
            await transport.DisposeAsync();
            scheduler.Dispose();
        }
    }

    private LinkTransport Make(ClusterMap map, string process, byte[] key, TimeSpan? deadline = null, TimeProvider? time = null)
    {
        var scheduler = new ThreadPoolScheduler(time);
        var transport = new LinkTransport(map, process, key, scheduler, new LinkOptions { StartDeadline = deadline ?? TimeSpan.FromSeconds(30), Log = _log.Enqueue });
        _made.Add((transport, scheduler));
        return transport;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_processes_with_the_key_link_both_ways_and_exchange_messages(bool unix)
    {
        var map = LinkTestMaps.Map(LinkTestMaps.Addresses(unix, 2));
        var p0 = Make(map, "p0", LinkTestMaps.Key);
        var p1 = Make(map, "p1", LinkTestMaps.Key);
        await Task.WhenAll(p0.StartAsync(), p1.StartAsync()).WaitAsync(HangGuard);
        var recorder = new Recorder();
        p0.Register(NodeId.Worker(0), new Incarnation(1), _made[0].Scheduler.CreateMailbox("worker-0"), recorder);
        var sender = p1.Register(NodeId.Worker(1), new Incarnation(1), _made[1].Scheduler.CreateMailbox("worker-1"), new Recorder());
        var arrived = recorder.Reached(1);
        sender.Send(NodeId.Worker(0), new Runtime.Serializable.Messages.PeerExecutedMsg(42));
        await arrived.WaitAsync(HangGuard);
        Assert.Equal(42, ((Runtime.Serializable.Messages.PeerExecutedMsg)recorder.Received[0]).Batch);
        Assert.Equal(NodeId.Worker(1), recorder.Received[0].From);
        Assert.Equal(0, p0.Counters.HandshakesRefused + p1.Counters.HandshakesRefused);
    }

    /// <summary>
    /// A process that closes its links right after its last word (a driver refusing a worker, then giving up) must
    /// not drop it: FlushAsync waits until everything queued is written, and the peer reads it all before the close.
    /// </summary>
    [Fact]
    public async Task Frames_queued_before_a_flush_all_arrive_though_the_sender_closes_its_links_at_once()
    {
        var map = LinkTestMaps.Map(LinkTestMaps.Addresses(unix: false, 2));
        var p0 = Make(map, "p0", LinkTestMaps.Key);
        var p1 = Make(map, "p1", LinkTestMaps.Key);
        await Task.WhenAll(p0.StartAsync(), p1.StartAsync()).WaitAsync(HangGuard);
        var recorder = new Recorder();
        p1.Register(NodeId.Worker(1), new Incarnation(1), _made[1].Scheduler.CreateMailbox("worker-1"), recorder);
        var sender = p0.Register(NodeId.Worker(0), new Incarnation(1), _made[0].Scheduler.CreateMailbox("worker-0"), new Recorder());
        // Large frames (64 KiB on the wire each), so the queue still holds some when the last send returns.
        const int messages = 400;
        var padding = new string('x', 32 << 10);
        var arrived = recorder.Reached(messages);
        for (int i = 0; i < messages; i++) sender.Send(NodeId.Worker(1), new Runtime.Serializable.Messages.WorkerFailedMsg($"{i} {padding}"));
        Assert.True(await p0.FlushAsync(HangGuard), "the flush gave up with frames unwritten");
        await p0.DisposeAsync();
        await arrived.WaitAsync(HangGuard);
        Assert.Equal(Enumerable.Range(0, messages), recorder.Received.Select(m => int.Parse(((Runtime.Serializable.Messages.WorkerFailedMsg)m).Reason.Split(' ')[0])));
    }

    [Fact]
    public async Task A_process_without_the_key_is_refused_counted_and_logged_and_cannot_start()
    {
        var map = LinkTestMaps.Map(LinkTestMaps.Addresses(unix: false, 2));
        var p0 = Make(map, "p0", LinkTestMaps.Key, TimeSpan.FromSeconds(3));
        var wrongKey = LinkTestMaps.Key.Select(b => (byte)(b ^ 0x5A)).ToArray();
        var intruder = Make(map, "p1", wrongKey, TimeSpan.FromSeconds(3));
        var reasons = new ConcurrentQueue<string>();
        p0.HandshakeRefused += reasons.Enqueue;
        // Awaited, not assumed done by the time the 3 s start deadlines pass: on a loaded machine the handshakes can
        // take longer. p0 listens before the intruder starts, so the intruder's first dial (made whatever the deadline)
        // reaches p0, which refuses it.
        var refused = Refused(p0, r => r.Contains("'p1' did not prove the cluster key", StringComparison.Ordinal));
        var p0Start = p0.StartAsync();
        var failure = await Assert.ThrowsAsync<LinkStartException>(() => intruder.StartAsync()).WaitAsync(HangGuard);
        Assert.Contains("'p0'", failure.Message);
        await Assert.ThrowsAsync<LinkStartException>(() => p0Start).WaitAsync(HangGuard);
        await refused.WaitAsync(HangGuard);
        // Each side refuses the other: p0 as the dialer (the intruder cannot answer its challenge) and as the acceptor.
        Assert.Contains(reasons, r => r.Contains("'p1' did not prove the cluster key"));
        // A refusal is counted just before it is reported, and p0's own dial may still be refused after its start
        // failed: wait until the two agree (a hang guard, not a speed check), then every counted refusal was reported.
        using (var guard = new CancellationTokenSource(HangGuard))
            while (reasons.Count != p0.Counters.HandshakesRefused) await Task.Delay(10, guard.Token);
        Assert.Equal(reasons.Count, p0.Counters.HandshakesRefused);
        Assert.Contains(_log, line => line.Contains("'p1' did not prove the cluster key"));
        Assert.Contains("'p1'", p0Start.Exception!.InnerException!.Message);
    }

    [Fact]
    public async Task A_process_of_another_cluster_is_refused_with_both_names()
    {
        var addresses = LinkTestMaps.Addresses(unix: true, 2);
        var p0 = Make(LinkTestMaps.Map(addresses), "p0", LinkTestMaps.Key, TimeSpan.FromSeconds(3));
        var stranger = Make(LinkTestMaps.Map(addresses, cluster: "elsewhere"), "p1", LinkTestMaps.Key, TimeSpan.FromSeconds(3));
        // p0 refuses twice, in either order: as the acceptor of the stranger's dial (the refusal this test is about) and
        // as a dialer the stranger hung up on. Wait for the one that names both clusters, whichever comes first.
        var refused = Refused(p0, reason => reason.Contains("cluster 'elsewhere' dialed cluster 'conformance'", StringComparison.Ordinal));
        _ = p0.StartAsync();
        await Assert.ThrowsAsync<LinkStartException>(() => stranger.StartAsync()).WaitAsync(HangGuard);
        var reason = await refused.WaitAsync(HangGuard);
        Assert.Contains("cluster 'elsewhere' dialed cluster 'conformance'", reason);
        Assert.True(p0.Counters.HandshakesRefused >= 1); // its own dial to the stranger is refused too
        Assert.Contains(_log, line => line.Contains("elsewhere"));
    }

    [Fact]
    public async Task A_process_the_map_does_not_name_is_refused_before_any_frame_is_read()
    {
        var addresses = LinkTestMaps.Addresses(unix: false, 3);
        var map = LinkTestMaps.Map(addresses[..2]);
        var p0 = Make(map, "p0", LinkTestMaps.Key, TimeSpan.FromSeconds(3));
        var recorder = new Recorder();
        p0.Register(NodeId.Worker(0), new Incarnation(1), _made[0].Scheduler.CreateMailbox("worker-0"), recorder);
        var refused = Refused(p0);
        _ = p0.StartAsync();
        // A stranger with the key, naming itself "p9", then writing a frame anyway.
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(map.Process("p0").Address.ToEndPoint());
        await using var stream = new NetworkStream(socket);
        using var guard = new CancellationTokenSource(HangGuard);
        var dial = Handshake.DialAsync(stream, LinkTestMaps.Key, map.Cluster, "p9", "p0", guard.Token);
        var reason = await refused.WaitAsync(HangGuard);
        Assert.Contains("'p9' is not a process of cluster 'conformance'", reason);
        await Assert.ThrowsAsync<HandshakeRefusedException>(() => dial).WaitAsync(HangGuard);
        try { await stream.WriteAsync(BadFrame.Of("misrouted", NodeId.Worker(1), NodeId.Worker(0))); }
        catch (IOException) { } // closed already: as good
        Assert.Empty(recorder.Received);
        Assert.Equal(1, p0.Counters.HandshakesRefused);
        Assert.Equal(0, p0.Counters.FramesReceived);
    }

    [Fact]
    public async Task Start_fails_naming_the_peer_that_never_came_up()
    {
        var map = LinkTestMaps.Map(LinkTestMaps.Addresses(unix: true, 3));
        // p0's start deadline runs on a clock the test moves, so it expires only after p0 and p1 are linked: on a
        // loaded machine a real 2 s deadline could expire before they link, and p1 would be named too (failed in CI).
        var clock = new ManualClock();
        var p0 = Make(map, "p0", LinkTestMaps.Key, TimeSpan.FromSeconds(2), clock);
        var p1 = Make(map, "p1", LinkTestMaps.Key, HangGuard);
        // p1 first: StartAsync listens before it returns, so p0's first dial to p1 is answered (a failed dial would
        // wait for a backoff on p0's clock, which moves only below). p1 dials p0 on real time, retrying until p0 listens.
        _ = p1.StartAsync();
        var p0Start = p0.StartAsync();
        await _made[0].Transport.Peer("p1").Ready.WaitAsync(HangGuard);
        clock.Advance(TimeSpan.FromSeconds(3)); // past p0's deadline; p2 never came up
        var failure = await Assert.ThrowsAsync<LinkStartException>(() => p0Start).WaitAsync(HangGuard);
        Assert.Contains("'p2'", failure.Message);
        Assert.DoesNotContain("'p1'", failure.Message);
    }

    /// <summary>The first refusal <paramref name="transport"/> reports that <paramref name="matches"/> (any, if null).</summary>
    private static Task<string> Refused(LinkTransport transport, Func<string, bool>? matches = null)
    {
        var refused = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        transport.HandshakeRefused += reason =>
        {
            if (matches is null || matches(reason)) refused.TrySetResult(reason);
        };
        return refused.Task;
    }
}
