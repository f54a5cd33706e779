using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Runtime.Transport.SharedMemory;

/// <summary>Whose region a file holds: the cluster, the owning node and the incarnation that registered it.</summary>
public readonly record struct RegionFileIdentity(string Cluster, int Node, int Incarnation)
{
    public RegionFileIdentity(string cluster, RegionKey key) : this(cluster, key.Node, key.Incarnation) { }

    public RegionKey Key => new(Node, Incarnation);
}

/// <summary>
/// A region file's fixed capacity: slots (key ids 0 to <see cref="SlotCapacity"/> − 1) and the bytes of its
/// value area. Both are virtual until touched, so the defaults are generous: 4 Mi slots (128 MiB of headers)
/// and a 16 GiB value area cost nothing on tmpfs until values arrive.
/// </summary>
public readonly record struct SharedRegionSize(int SlotCapacity, long ValueAreaBytes)
{
    public static readonly SharedRegionSize Default = new(1 << 22, 16L << 30);

    internal void Check(int maxValueBytes)
    {
        if (SlotCapacity is < 1 or > SharedRegion.MaxSlotCapacity)
            throw new ArgumentOutOfRangeException(nameof(SlotCapacity), SlotCapacity, $"a shared region holds 1 to {SharedRegion.MaxSlotCapacity} slots");
        long least = SharedExtents.ExtentBytesFor(maxValueBytes);
        if (ValueAreaBytes < least || ValueAreaBytes > SharedRegion.MaxValueAreaBytes || ValueAreaBytes % RegionFileLayout.ExtentUnitBytes != 0)
            throw new ArgumentOutOfRangeException(nameof(ValueAreaBytes), ValueAreaBytes,
                $"the value area must hold the largest value's extent ({least} bytes), be at most {SharedRegion.MaxValueAreaBytes} bytes and a multiple of {RegionFileLayout.ExtentUnitBytes}");
    }
}
