using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using HdrHistogram;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Links;
using Leasehold.Runtime.Transport.Membership;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Cli.Links;

/// <summary>
/// `leasehold link-bench [--transport tcp|unix] [--round-trips N] [--messages N]` (hidden): two processes' links on
/// loopback, both in this process with a scheduler each. It measures a one-sided compare-and-swap ping-pong (issue,
/// served in the peer's reader, completion on the requester's mailbox) into an HdrHistogram, then messages per
/// second over one link (every message sent from one thread, timed until the receiver has them all).
/// </summary>
internal static class LinkBenchCommand
{
    public const string Name = "link-bench";
    private static readonly byte[] Key = Enumerable.Range(0, 32).Select(i => (byte)(i * 13)).ToArray();

    public static Command Create()
    {
        var transport = new Option<string>("--transport") { DefaultValueFactory = _ => "tcp", Description = "tcp or unix" };
        transport.AcceptOnlyFromAmong("tcp", "unix");
        var roundTrips = new Option<int>("--round-trips") { DefaultValueFactory = _ => 50_000 };
        var messages = new Option<int>("--messages") { DefaultValueFactory = _ => 1_000_000 };
        var command = new Command(Name, "one-sided ping-pong latency and messages per second over the socket links") { transport, roundTrips, messages };
        command.Hidden = true;
        command.SetAction(async (parse, _) =>
        {
            if (parse.GetValue(roundTrips) < 1 || parse.GetValue(messages) < 1)
            {
                Console.Error.WriteLine($"leasehold {Name}: --round-trips and --messages must be positive");
                return ExitCodes.Usage;
            }
            await RunAsync(parse.GetValue(transport) == "unix", parse.GetValue(roundTrips), parse.GetValue(messages));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task RunAsync(bool unix, int roundTrips, int messages)
    {
        string? directory = null;
        LinkAddress[] addresses;
        if (unix)
        {
            directory = Path.Combine(Path.GetTempPath(), "lhl-bench-" + Path.GetRandomFileName().Replace(".", ""));
            addresses = [LinkAddress.Parse($"unix:{directory}/p0.sock"), LinkAddress.Parse($"unix:{directory}/p1.sock")];
        }
        else addresses = [FreeTcp(), FreeTcp()];
        var map = new ClusterMap("bench", [new ProcessEntry("p0", addresses[0], [NodeId.Driver, NodeId.Worker(0)]), new ProcessEntry("p1", addresses[1], [NodeId.Worker(1)])]);
        using var s0 = new ThreadPoolScheduler();
        using var s1 = new ThreadPoolScheduler();
        await using var p0 = new LinkTransport(map, "p0", Key, s0);
        await using var p1 = new LinkTransport(map, "p1", Key, s1);
        var memory = new LinkOneSided(p0);
        var region = new RegionKey(1, 1);
        new LinkOneSided(p1).Register(region, new RegionMemory(owner: 1));
        var sender = p0.Register(NodeId.Worker(0), new Incarnation(1), s0.CreateMailbox("worker-0"), new Counter());
        var received = new Counter();
        p1.Register(NodeId.Worker(1), new Incarnation(1), s1.CreateMailbox("worker-1"), received);
        await Task.WhenAll(p0.StartAsync(), p1.StartAsync());
        var name = unix ? "unix" : "tcp";

        var requester = s0.CreateMailbox("requester");
        var histogram = new LongHistogram(10_000_000_000, 3);
        int warmUp = Math.Min(roundTrips, 5_000);
        for (int i = 0; i < warmUp + roundTrips; i++)
        {
            var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            long start = Stopwatch.GetTimestamp();
            memory.CompareAndSwapFlag(region, i % 4096, RegionMemory.NoOwner, 1, requester, static (s, swapped) => ((TaskCompletionSource<bool>)s).SetResult(swapped), done);
            await done.Task;
            if (i >= warmUp) histogram.RecordValue((long)Stopwatch.GetElapsedTime(start).TotalNanoseconds);
        }
        Console.WriteLine($"{name} one-sided CAS round trip: p50 {histogram.GetValueAtPercentile(50) / 1000.0:0.0} µs, p99 {histogram.GetValueAtPercentile(99) / 1000.0:0.0} µs, " +
                          $"max {histogram.GetMaxValue() / 1000.0:0.0} µs ({roundTrips} round trips after {warmUp} warm-up)");

        var flushesBefore = p0.Counters.Flushes;
        var framesBefore = p0.Counters.FramesSent;
        var bytesBefore = p0.Counters.BytesSent;
        var all = received.Expect(messages);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < messages; i++) sender.Send(NodeId.Worker(1), new PeerExecutedMsg(i));
        await all;
        clock.Stop();
        long frames = p0.Counters.FramesSent - framesBefore, flushes = p0.Counters.Flushes - flushesBefore, bytes = p0.Counters.BytesSent - bytesBefore;
        Console.WriteLine($"{name} messages over one link: {messages / clock.Elapsed.TotalSeconds:N0} per second ({messages} in {clock.Elapsed.TotalMilliseconds:N0} ms; " +
                          $"{(double)bytes / frames:0.0} bytes per frame, {(double)frames / Math.Max(1, flushes):0.0} frames per flush)");
        if (directory is not null && Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
    }

    private static LinkAddress FreeTcp()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return LinkAddress.Parse($"tcp://127.0.0.1:{port}");
    }

    /// <summary>Counts messages; completes a task once the expected count arrived.</summary>
    private sealed class Counter : IMessageSink
    {
        private int _count, _target = int.MaxValue;
        private TaskCompletionSource? _reached;

        public Task Expect(int more)
        {
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _reached, reached);
            Volatile.Write(ref _target, Volatile.Read(ref _count) + more);
            return reached.Task;
        }

        public void Receive(Message message)
        {
            if (Interlocked.Increment(ref _count) == Volatile.Read(ref _target)) Volatile.Read(ref _reached)?.TrySetResult();
        }
    }
}
