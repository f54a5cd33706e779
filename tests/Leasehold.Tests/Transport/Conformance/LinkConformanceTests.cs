using System.Net.Sockets;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Links;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Tests.Transport.Links;

namespace Leasehold.Tests.Transport.Conformance;

/// <summary>The socket links over loopback TCP, every process a <see cref="LinkTransport"/> with its own scheduler in this test process.</summary>
public sealed class TcpConformanceTests : LinkConformanceTests
{
    protected override bool Unix => false;
}

/// <summary>The socket links over Unix domain sockets (the shared-memory transport's message links).</summary>
public sealed class UnixConformanceTests : LinkConformanceTests
{
    protected override bool Unix => true;
}

public abstract class LinkConformanceTests : TransportConformanceTests
{
    protected abstract bool Unix { get; }

    protected virtual LinkOptions Options => new() { StartDeadline = TimeSpan.FromSeconds(30) };

    /// <summary>
    /// The one-sided layer of each process. The shared-memory transport keeps these links for its messages and
    /// overrides this with its mapped regions, so the whole suite runs on it unchanged.
    /// </summary>
    protected virtual IOneSided CreateOneSided(LinkTransport transport) => new LinkOneSided(transport);

    protected override async Task<ConformanceCluster> StartAsync(int processes)
    {
        var cluster = new LinkCluster(LinkTestMaps.Map(LinkTestMaps.Addresses(Unix, processes)), Options, CreateOneSided);
        try { await cluster.StartAsync(); }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    protected override async Task<Intruder?> IntrudeAsync()
    {
        var map = LinkTestMaps.Map(LinkTestMaps.Addresses(Unix, 2));
        var scheduler = new ThreadPoolScheduler();
        var transport = new LinkTransport(map, "p0", LinkTestMaps.Key, scheduler, Options);
        var process = new ConformanceProcess("p0", transport, CreateOneSided(transport), scheduler);
        transport.LinkLost += process.ReportLinkLost;
        var recorder = new Recorder();
        var target = transport.Register(NodeId.Worker(0), new Incarnation(1), scheduler.CreateMailbox("worker-0"), recorder);
        var starting = transport.StartAsync(); // never completes: nobody plays p1's listener
        var address = map.Process("p0").Address;
        var socket = Unix ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) : new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(address.ToEndPoint());
        var stream = new NetworkStream(socket, ownsSocket: true);
        using var guard = new CancellationTokenSource(HangGuard);
        await Handshake.DialAsync(stream, LinkTestMaps.Key, map.Cluster, "p1", "p0", guard.Token);
        return new Intruder(process, target, "p1", NodeId.Worker(1), stream, async () =>
        {
            await stream.DisposeAsync();
            await transport.DisposeAsync();
            await Task.WhenAny(starting);
            scheduler.Dispose();
        }) { TargetRecorder = recorder };
    }

    protected override async Task<StalledLink?> StallAsync(long boundBytes)
    {
        var map = LinkTestMaps.Map(LinkTestMaps.Addresses(Unix, 2));
        var scheduler = new ThreadPoolScheduler();
        var transport = new LinkTransport(map, "p0", LinkTestMaps.Key, scheduler, Options with { MaxQueuedBytes = boundBytes });
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        transport.LinkLost += (_, _) => lost.TrySetResult();
        // p1 is played here: it listens, accepts p0's dial, authenticates, and never reads.
        var p1 = map.Process("p1").Address;
        var listener = Unix ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) : new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(p1.ToEndPoint());
        listener.Listen(1);
        var starting = transport.StartAsync();
        using var guard = new CancellationTokenSource(HangGuard);
        var accepted = await listener.AcceptAsync(guard.Token);
        var stream = new NetworkStream(accepted, ownsSocket: true);
        await Handshake.AcceptAsync(stream, LinkTestMaps.Key, map.Cluster, "p1", _ => null, guard.Token);
        await Handshake.AcceptedAsync(stream, guard.Token);
        var sender = transport.Register(NodeId.Worker(0), new Incarnation(1), scheduler.CreateMailbox("worker-0"), new Recorder());
        var queue = transport.Peer("p1").Queue;
        return new StalledLink(sender, NodeId.Worker(1), () => queue.WaitingSenders, () => queue.QueuedBytes, () => transport.Counters.SendsDropped,
            async () =>
            {
                await stream.DisposeAsync();
                await lost.Task.WaitAsync(HangGuard);
            },
            async () =>
            {
                await stream.DisposeAsync();
                listener.Dispose();
                await transport.DisposeAsync();
                await Task.WhenAny(starting);
                if (p1.SocketPath is { } path) File.Delete(path);
                scheduler.Dispose();
            });
    }

    private sealed class LinkCluster : ConformanceCluster
    {
        private readonly List<(LinkTransport Transport, ThreadPoolScheduler Scheduler)> _parts = [];

        public LinkCluster(Runtime.Transport.Membership.ClusterMap map, LinkOptions options, Func<LinkTransport, IOneSided> oneSided)
        {
            var processes = new List<ConformanceProcess>();
            foreach (var entry in map.Processes)
            {
                var scheduler = new ThreadPoolScheduler();
                var transport = new LinkTransport(map, entry.Name, LinkTestMaps.Key, scheduler, options);
                var process = new ConformanceProcess(entry.Name, transport, oneSided(transport), scheduler);
                transport.LinkLost += process.ReportLinkLost;
                _parts.Add((transport, scheduler));
                processes.Add(process);
            }
            Processes = processes;
        }

        public override IReadOnlyList<ConformanceProcess> Processes { get; }
        public override bool HasLinks => true;

        public Task StartAsync() => Task.WhenAll(_parts.Select(p => p.Transport.StartAsync()));

        public override async Task KillAsync(int index) => await _parts[index].Transport.DisposeAsync();

        public override async ValueTask DisposeAsync()
        {
            foreach (var (transport, scheduler) in _parts)
            {
                await transport.DisposeAsync();
                Assert.Null(scheduler.Fault);
                scheduler.Dispose();
            }
        }
    }
}
