using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Links;
using Leasehold.Runtime.Transport.Membership;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Transport.SharedMemory;
using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Cli.Processes;

/// <summary>How the processes of a cluster reach each other.</summary>
internal enum ProcessLinkKind
{
    /// <summary>Messages over TCP; one-sided operations served by the target process's network layer.</summary>
    Tcp,
    /// <summary>Processes on one host: messages over Unix domain sockets; one-sided operations on memory-mapped region files.</summary>
    Shm,
}

/// <summary>
/// One process's side of a multi-process cluster: its authenticated links to every other process, the one-sided
/// memory that goes with them, and how its workers' regions are made.
/// </summary>
internal sealed class ProcessNetwork : IAsyncDisposable
{
    private ProcessNetwork(LinkTransport links, IOneSided memory, Func<RegionKey, int, IRegion>? createRegion)
    {
        Links = links;
        Memory = memory;
        CreateRegion = createRegion;
    }

    public LinkTransport Links { get; }
    public IOneSided Memory { get; }
    /// <summary>Makes a worker's region of an incarnation (null: in this process's memory).</summary>
    public Func<RegionKey, int, IRegion>? CreateRegion { get; }

    public static ProcessNetwork Create(ProcessLinkKind kind, ClusterMap map, string process, byte[] key, IScheduler scheduler, int maxValueBytes, Action<string> log)
    {
        var self = map.Process(process);
        if (kind == ProcessLinkKind.Shm && !self.Address.IsUnix)
            throw new UsageException($"--transport shm: process '{process}' listens on {self.Address}; on one host the processes talk over Unix sockets (unix:/path)");
        var links = new LinkTransport(map, process, key, scheduler, new LinkOptions { Limits = WireLimits.ForValues(maxValueBytes), Log = log });
        return kind switch
        {
            ProcessLinkKind.Tcp => new ProcessNetwork(links, new LinkOneSided(links), null),
            _ => Shared(links, map, self, scheduler, log),
        };
    }

    private static ProcessNetwork Shared(LinkTransport links, ClusterMap map, ProcessEntry self, IScheduler scheduler, Action<string> log)
    {
        // A SIGKILLed run of this process left its region files behind: they are removed before any is made again.
        var own = self.Nodes.Where(n => n.Role == NodeRole.Worker).Select(n => (int)n.Index);
        foreach (var stale in ShmRegions.RemoveStale(map.Cluster, own)) log($"removed the stale region file {stale}");
        var memory = new ShmOneSided(scheduler, map.Cluster);
        return new ProcessNetwork(links, memory, memory.CreateRegion);
    }

    /// <summary>How long closing waits for frames already queued (a refusal, a shutdown, a report) to be written.</summary>
    private static readonly TimeSpan FlushBound = TimeSpan.FromSeconds(10);

    public async ValueTask DisposeAsync()
    {
        // What this process said last must leave before its links close: a worker refused at join would otherwise
        // hear only that the link was lost, never why it was refused (seen on a loaded machine).
        await Links.FlushAsync(FlushBound);
        await Links.DisposeAsync();
        // The shared-memory regions: unmapped, and this process's files deleted.
        (Memory as IDisposable)?.Dispose();
    }
}
