using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Transport.SharedMemory;

namespace Leasehold.Tests.Transport.SharedMemory;

/// <summary>A fresh directory on tmpfs for one test's region files, removed with everything in it at the end.</summary>
internal sealed class ShmTestDirectory : IDisposable
{
    private static int _next;

    public ShmTestDirectory()
    {
        Path = System.IO.Path.Combine(Directory.Exists(ShmRegions.DefaultDirectory) ? ShmRegions.DefaultDirectory : System.IO.Path.GetTempPath(),
            $"leasehold-tests-{Environment.ProcessId}-{Interlocked.Increment(ref _next)}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public static readonly SharedRegionSize Small = new(SlotCapacity: 4096, ValueAreaBytes: 16 << 20);

    public string PathFor(string cluster, RegionKey key) => ShmRegions.PathFor(Path, cluster, key);

    /// <summary>A region file of <paramref name="cluster"/> created by this process.</summary>
    public SharedRegion Create(string cluster, RegionKey key, int maxValueBytes = 1 << 16, SharedRegionSize? size = null, int? ownerPid = null) =>
        SharedRegion.Create(PathFor(cluster, key), new RegionFileIdentity(cluster, key), maxValueBytes, size ?? Small, ownerPid ?? Environment.ProcessId);

    /// <summary>Another mapping of the same file, as another process would have.</summary>
    public SharedRegion Open(string cluster, RegionKey key) => SharedRegion.Open(PathFor(cluster, key), new RegionFileIdentity(cluster, key));

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}
