using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Links;
using Leasehold.Runtime.Transport.Membership;
using Leasehold.Runtime.Transport.Regions;
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
    private ProcessNetwork(LinkTransport links, IOneSided memory, Func<RegionKey, int, RegionMemory>? createRegion)
    {
        Links = links;
        Memory = memory;
        CreateRegion = createRegion;
    }

    public LinkTransport Links { get; }
    public IOneSided Memory { get; }
    /// <summary>Makes a worker's region of an incarnation (null: in this process's memory).</summary>
    public Func<RegionKey, int, RegionMemory>? CreateRegion { get; }

    public static ProcessNetwork Create(ProcessLinkKind kind, ClusterMap map, string process, byte[] key, IScheduler scheduler, int maxValueBytes, Action<string> log)
    {
        var self = map.Process(process);
        if (kind == ProcessLinkKind.Shm && !self.Address.IsUnix)
            throw new UsageException($"--transport shm: process '{process}' listens on {self.Address}; on one host the processes talk over Unix sockets (unix:/path)");
        var links = new LinkTransport(map, process, key, scheduler, new LinkOptions { Limits = WireLimits.ForValues(maxValueBytes), Log = log });
        return kind switch
        {
            ProcessLinkKind.Tcp => new ProcessNetwork(links, new LinkOneSided(links), null),
            _ => throw new UsageException("--transport shm is not available in this build"),
        };
    }

    public ValueTask DisposeAsync() => Links.DisposeAsync();
}
