using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Links;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Tests.Transport.Conformance;

namespace Leasehold.Tests.Transport.Links;

/// <summary>
/// The links between real processes over loopback TCP: this test process is p0, and p1, p2 are
/// `leasehold link-peer` children that serve worker-i's region and echo every message to its sender.
/// </summary>
public class LinkProcessTests : IAsyncLifetime
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "lhl-proc-" + Path.GetRandomFileName().Replace(".", ""));
    private readonly List<LinkPeerProcess> _children = [];
    private readonly ThreadPoolScheduler _scheduler = new();
    private LinkTransport? _p0;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_p0 is not null) await _p0.DisposeAsync();
        foreach (var child in _children) await child.DisposeAsync();
        Assert.Null(_scheduler.Fault);
        _scheduler.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Starts <paramref name="processes"/> - 1 children and this process as p0, all linked.</summary>
    private async Task<(LinkTransport P0, LinkOneSided OneSided, ConformanceProcess Seen)> StartAsync(int processes, Action<LinkTransport> registerBeforeStart)
    {
        var map = LinkTestMaps.Map(LinkTestMaps.Addresses(unix: false, processes));
        var mapFile = Path.Combine(_directory, "map.json");
        var keyFile = Path.Combine(_directory, "key");
        await File.WriteAllTextAsync(mapFile, LinkTestMaps.Json(map));
        await File.WriteAllBytesAsync(keyFile, LinkTestMaps.Key);
        for (int i = 1; i < processes; i++) _children.Add(LinkPeerProcess.Start(mapFile, $"p{i}", keyFile));
        _p0 = new LinkTransport(map, "p0", LinkTestMaps.Key, _scheduler, new LinkOptions { StartDeadline = TimeSpan.FromSeconds(60) });
        var oneSided = new LinkOneSided(_p0);
        var seen = new ConformanceProcess("p0", _p0, oneSided, _scheduler);
        _p0.LinkLost += seen.ReportLinkLost;
        registerBeforeStart(_p0);
        await _p0.StartAsync().WaitAsync(HangGuard);
        foreach (var child in _children) await child.LineAsync(l => l == "ready");
        return (_p0, oneSided, seen);
    }

    [Fact]
    public async Task Across_processes_each_link_keeps_its_order_and_a_compare_and_swap_race_has_one_winner_per_slot()
    {
        var senders = new List<(Endpoint Endpoint, Recorder Echoes, NodeId To)>();
        var (p0, oneSided, _) = await StartAsync(3, transport =>
        {
            var nodes = new[] { (NodeId.Driver, NodeId.Worker(1)), (NodeId.Client(0), NodeId.Worker(1)), (NodeId.Worker(0), NodeId.CacheServer(2)), (NodeId.CacheServer(0), NodeId.Worker(2)) };
            foreach (var (node, to) in nodes)
            {
                var echoes = new Recorder();
                senders.Add((transport.Register(node, new Incarnation(1), _scheduler.CreateMailbox(node.ToString()), echoes), echoes, to));
            }
        });

        // Ordering: four nodes of this process send from four threads to nodes of both children, which echo each back.
        await ProcessLinkChecks.EachLinkKeepsItsOrderAsync(senders, HangGuard);
        // Compare-and-swap: p2 (a child) and two requesters here race on every slot of worker-1's region, held by p1.
        await ProcessLinkChecks.EachSwapHasOneWinnerAsync(oneSided, _scheduler, _children[1], HangGuard);
        Assert.Empty(p0.LostLinks);
    }

    [Fact]
    public async Task A_peer_process_killed_mid_run_loses_its_link_once_and_nothing_waits_on_it()
    {
        Endpoint? sender = null;
        var (p0, oneSided, seen) = await StartAsync(2, transport => sender = transport.Register(NodeId.Worker(0), new Incarnation(1), _scheduler.CreateMailbox("worker-0"), new Recorder()));
        var requester = _scheduler.CreateMailbox("requester");
        var region = new RegionKey(1, 1);
        var inFlight = Enumerable.Range(0, 5000).Select(_ => oneSided.FetchAndAddAsync(region, 0, 1, requester)).ToList();
        _children[0].Kill();
        var reason = await seen.LinkLostTo("p1").WaitAsync(HangGuard);
        Assert.False(string.IsNullOrWhiteSpace(reason));

        await Task.Run(() =>
        {
            for (int i = 0; i < 10_000; i++) sender!.Send(NodeId.Worker(1), new PeerExecutedMsg(i));
            for (int i = 0; i < 1000; i++) oneSided.FetchAndAdd(region, 0, 1, requester, static (_, _) => { }, requester);
        }).WaitAsync(HangGuard);
        Assert.Single(seen.LinksLost);
        Assert.Equal(0, oneSided.PendingOperations); // what was in flight is forgotten: it never completes
        Assert.True(p0.Counters.SendsDropped > 0);
        Assert.DoesNotContain(inFlight, t => t.IsFaulted);
    }
}
