using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Links;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Transport.SharedMemory;
using Leasehold.Tests.Transport.SharedMemory;

namespace Leasehold.Tests.Transport.Conformance;

/// <summary>
/// The shared-memory transport: messages over Unix-socket links, one-sided operations as loads, stores and
/// interlocked operations on memory-mapped region files. Each "process" has its own <see cref="ShmOneSided"/>
/// (its own mappings) on one fresh directory of this test, removed at the end.
/// <para>
/// <b>A peer that disappears.</b> Its links are lost (once), and everything sent to it is dropped at once, as on
/// tcp. Its region file is another matter: a crash (SIGKILL) leaves the file, and every process that mapped it
/// keeps a valid mapping, so one-sided operations on it still land and complete as successes. That is the right
/// behaviour for shared memory (nothing can "lose the reply" of a store to a mapping): the link loss is what
/// fails the batch, and the next start removes the stale file. The base's test holds unchanged; the extra test
/// below pins what happens to the memory.
/// </para>
/// </summary>
public sealed class ShmConformanceTests : LinkConformanceTests
{
    private const string ClusterName = "conformance";
    /// <summary>The base's fetch-and-add slot is 100 000: the regions hold 2^17 slots (the file is sparse on tmpfs).</summary>
    private static readonly SharedRegionSize Size = new(SlotCapacity: 1 << 17, ValueAreaBytes: 16 << 20);
    private OwnedDirectory? _directory;

    protected override bool Unix => true;

    protected override IOneSided CreateOneSided(LinkTransport transport, IScheduler scheduler)
    {
        _directory ??= Own(new OwnedDirectory(new ShmTestDirectory()));
        var memory = new ShmOneSided(scheduler, ClusterName, _directory.Path, size: Size);
        Own(new Disposing(memory));
        return memory;
    }

    protected override IRegion CreateRegion(ConformanceProcess owner, RegionKey key) =>
        ((ShmOneSided)owner.OneSided).CreateRegion(key, maxValueBytes: 4096);

    [Fact]
    public async Task A_peer_that_disappears_leaves_its_region_mapped_and_operations_on_it_still_land()
    {
        var cluster = Own(await StartAsync(2));
        var region = CreateRegion(cluster[0], new RegionKey(0, 1));
        var requester = cluster[1].Scheduler.CreateMailbox("requester");
        var before = await cluster[1].OneSided.FetchAndAddAsync(new RegionKey(0, 1), 1, 1, requester).WaitAsync(HangGuard);

        await cluster.KillAsync(0); // its links close; its process "crashed", so its mapping and file stay
        await cluster[1].LinkLostTo(cluster[0].Name).WaitAsync(HangGuard);
        var after = await cluster[1].OneSided.FetchAndAddAsync(new RegionKey(0, 1), 1, 1, requester).WaitAsync(HangGuard);
        Assert.True(await cluster[1].OneSided.CompareAndSwapAsync(new RegionKey(0, 1), 2, RegionMemory.NoOwner, 7, requester).WaitAsync(HangGuard));

        Assert.Equal(before + 1, after);
        Assert.Equal(before + 2, region.Header(1).Sequence); // the same bytes the vanished owner mapped
        Assert.Equal(7, region.Flag(2));
        Assert.Single(cluster[1].LinksLost);
    }

    private sealed class Disposing(IDisposable inner) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            inner.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class OwnedDirectory(ShmTestDirectory directory) : IAsyncDisposable
    {
        public string Path => directory.Path;

        public ValueTask DisposeAsync()
        {
            directory.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
