using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Links;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Transport.SharedMemory;
using Leasehold.Tests.Transport.Links;
using Leasehold.Tests.Transport.SharedMemory;

namespace Leasehold.Tests.Transport.Conformance;

/// <summary>
/// The conformance suite's ordering and compare-and-swap race with real peer processes over Unix-socket links:
/// this test process is p0, and p1, p2 are `leasehold link-peer` children that serve worker-i's region and echo
/// every message to its sender. In "unix" the one-sided operations go over the links (served by the region's
/// owner); in "shm" they are interlocked operations on the owner's memory-mapped region file, mapped by every
/// process that operates on it (`link-peer --shm-dir`). (<see cref="LinkProcessTests"/> does the same over tcp.)
/// </summary>
public sealed class ProcessConformanceTests : IAsyncLifetime
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);
    private readonly ShmTestDirectory _directory = new();
    private readonly List<LinkPeerProcess> _children = [];
    private readonly ThreadPoolScheduler _scheduler = new();
    private LinkTransport? _p0;
    private IDisposable? _memory;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_p0 is not null) await _p0.DisposeAsync();
        foreach (var child in _children) await child.DisposeAsync(); // each removes its own region files at exit
        _memory?.Dispose();
        Assert.Null(_scheduler.Fault);
        _scheduler.Dispose();
        Assert.Empty(Directory.GetFiles(_directory.Path, "*.region")); // nothing left behind by a clean exit
        _directory.Dispose();
    }

    [Theory]
    [InlineData("unix")]
    [InlineData("shm")]
    public async Task Across_processes_each_link_keeps_its_order_and_a_compare_and_swap_race_has_one_winner_per_slot(string transport)
    {
        bool shm = transport == "shm";
        var map = LinkTestMaps.Map(LinkTestMaps.Addresses(unix: true, 3));
        var mapFile = Path.Combine(_directory.Path, "map.json");
        var keyFile = Path.Combine(_directory.Path, "key");
        await File.WriteAllTextAsync(mapFile, LinkTestMaps.Json(map));
        await File.WriteAllBytesAsync(keyFile, LinkTestMaps.Key);
        string[] options = shm ? ["--shm-dir", _directory.Path] : [];
        for (int i = 1; i < 3; i++) _children.Add(LinkPeerProcess.Start(mapFile, $"p{i}", keyFile, options));
        _p0 = new LinkTransport(map, "p0", LinkTestMaps.Key, _scheduler, new LinkOptions { StartDeadline = TimeSpan.FromSeconds(60) });
        IOneSided oneSided = shm ? new ShmOneSided(_scheduler, map.Cluster, _directory.Path) : new LinkOneSided(_p0);
        _memory = oneSided as IDisposable;
        var senders = new List<(Endpoint Endpoint, Recorder Echoes, NodeId To)>();
        foreach (var (node, to) in new[] { (NodeId.Driver, NodeId.Worker(1)), (NodeId.Client(0), NodeId.Worker(1)), (NodeId.Worker(0), NodeId.CacheServer(2)), (NodeId.CacheServer(0), NodeId.Worker(2)) })
        {
            var echoes = new Recorder();
            senders.Add((_p0.Register(node, new Incarnation(1), _scheduler.CreateMailbox(node.ToString()), echoes), echoes, to));
        }
        await _p0.StartAsync().WaitAsync(HangGuard);
        foreach (var child in _children) await child.LineAsync(l => l == "ready"); // its region exists from here on

        // Ordering: four nodes of this process send from four threads to nodes of both children, which echo each back.
        await ProcessLinkChecks.EachLinkKeepsItsOrderAsync(senders, HangGuard);
        // Compare-and-swap: p2 (a child) and two requesters here race on every slot of worker-1's region, held by p1.
        int slots = await ProcessLinkChecks.EachSwapHasOneWinnerAsync(oneSided, _scheduler, _children[1], HangGuard);
        if (oneSided is ShmOneSided mapped)
        {
            Assert.Equal(3 * slots, mapped.Operations); // every swap and read here was on the mapping of p1's file
            Assert.Equal(1, mapped.RegionCount);
        }
        Assert.Empty(_p0.LostLinks);
    }
}
