using System.CommandLine;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Links;
using Leasehold.Runtime.Transport.Membership;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Transport.SharedMemory;

namespace Leasehold.Cli.Links;

/// <summary>
/// `leasehold link-peer --map FILE --process NAME --key-file F` (hidden): joins the cluster as one process,
/// serves a region (key: worker index, incarnation 1) for each worker it hosts, and echoes every message back
/// to its sender. It writes "ready" once every link is up and "lost PEER: REASON" for each link lost. On stdin
/// it takes "cas NODE ROUNDS ID": swap slots 0..ROUNDS-1 of worker NODE's region from -1 to ID, all at once,
/// answering "cas-won" and the slots it won. Stdin at its end stops it. With --shm-dir DIR its one-sided
/// memory is shared memory instead: its regions are mapped files in DIR named by the map's cluster (removed
/// at exit), and it operates on others' regions through their files.
/// </summary>
internal static class LinkPeerCommand
{
    public const string Name = "link-peer";

    public static Command Create()
    {
        var map = new Option<FileInfo>("--map") { Required = true, Description = "the cluster map (JSON)" };
        var process = new Option<string>("--process") { Required = true, Description = "this process's name in the map" };
        var keyFile = new Option<FileInfo>("--key-file") { Required = true, Description = "the cluster key (its raw bytes, at least 16)" };
        var shmDir = new Option<DirectoryInfo?>("--shm-dir") { Description = "one-sided memory on region files in this directory (the shm transport) instead of over the links" };
        var command = new Command(Name, "joins a cluster's links as one process: serves regions, echoes messages (tests start it)") { map, process, keyFile, shmDir };
        command.Hidden = true;
        command.SetAction(async (parse, cancellation) =>
        {
            ClusterMap clusterMap;
            byte[] key;
            try
            {
                clusterMap = ClusterMap.Load(parse.GetValue(map)!.FullName);
                key = File.ReadAllBytes(parse.GetValue(keyFile)!.FullName);
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"leasehold {Name}: {e.Message}");
                return ExitCodes.Usage;
            }
            return await RunAsync(clusterMap, parse.GetValue(process)!, key, parse.GetValue(shmDir)?.FullName, cancellation);
        });
        return command;
    }

    private static async Task<int> RunAsync(ClusterMap map, string name, byte[] key, string? shmDirectory, CancellationToken cancellation)
    {
        var output = Console.Out;
        void Say(string line)
        {
            lock (output)
            {
                output.WriteLine(line);
                output.Flush();
            }
        }
        using var scheduler = new ThreadPoolScheduler();
        LinkTransport transport;
        try { transport = new LinkTransport(map, name, key, scheduler, new LinkOptions { Log = Console.Error.WriteLine }); }
        catch (Exception e) when (e is ArgumentException or KeyNotFoundException)
        {
            Console.Error.WriteLine($"leasehold {Name}: {e.Message}");
            return ExitCodes.Usage;
        }
        await using var _ = transport;
        using var shm = shmDirectory is null ? null : new ShmOneSided(scheduler, map.Cluster, shmDirectory, size: ShmRegionSize);
        IOneSided oneSided = shm is null ? new LinkOneSided(transport) : shm;
        transport.LinkLost += (peer, reason) => Say($"lost {peer}: {reason.ReplaceLineEndings(" ")}");
        foreach (var node in transport.Self.Nodes)
        {
            if (node.Role == NodeRole.Worker)
            {
                var regionKey = new RegionKey(node.Index, 1);
                try
                {
                    if (shm is not null) shm.CreateRegion(regionKey, maxValueBytes: 4096);
                    else oneSided.Register(regionKey, new RegionMemory(owner: node.Index));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Console.Error.WriteLine($"leasehold {Name}: the region file of {regionKey}: {e.Message}");
                    return ExitCodes.Failure;
                }
            }
            var echo = new Echo();
            echo.Endpoint = transport.Register(node, new Incarnation(1), scheduler.CreateMailbox(node.ToString()), echo);
        }
        try { await transport.StartAsync(cancellation); }
        catch (LinkStartException e)
        {
            Console.Error.WriteLine($"leasehold {Name}: {e.Message}");
            return ExitCodes.Failure;
        }
        Say("ready");
        var requester = scheduler.CreateMailbox("requester");
        while (await Console.In.ReadLineAsync(cancellation) is { } line)
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words is ["cas", var node, var rounds, var id] && int.TryParse(node, out int n) && int.TryParse(rounds, out int r) && int.TryParse(id, out int me))
            {
                var swaps = Enumerable.Range(0, r).Select(slot => CompareAndSwap(oneSided, new RegionKey(n, 1), slot, me, requester)).ToList();
                var won = await Task.WhenAll(swaps);
                Say("cas-won " + string.Join(",", Enumerable.Range(0, r).Where(slot => won[slot])));
            }
            else if (words.Length > 0) Console.Error.WriteLine($"leasehold {Name}: unknown command '{line}'");
        }
        return scheduler.Fault is null ? ExitCodes.Ok : ExitCodes.Failure;
    }

    /// <summary>Small enough for a test's tmpfs (the file is sparse), large enough for its races.</summary>
    private static readonly SharedRegionSize ShmRegionSize = new(SlotCapacity: 1 << 16, ValueAreaBytes: 16 << 20);

    private static Task<bool> CompareAndSwap(IOneSided memory, RegionKey key, int slot, int desired, Mailbox replyTo)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        memory.CompareAndSwapFlag(key, slot, RegionMemory.NoOwner, desired, replyTo, static (s, swapped) => ((TaskCompletionSource<bool>)s).SetResult(swapped), done);
        return done.Task;
    }

    /// <summary>Sends every message back to the node that sent it, on the same link, so the sender can check its order.</summary>
    private sealed class Echo : IMessageSink
    {
        public Endpoint? Endpoint { get; set; }

        public void Receive(Message message) => Endpoint!.Send(message.From, message);
    }
}
