namespace Leasehold.Runtime.Transport.Regions;

/// <summary>
/// Where a region's bytes live: slot headers and value segments are both taken from here. Each block must
/// stay at one address for the region's life and come zeroed, because one-sided operations address it
/// directly. The backing is pinned managed arrays (<see cref="PinnedArrayBacking"/>). Regions
/// shared between processes do not use it: their whole state, allocator included, must live in the file
/// (<c>Transport/SharedMemory/SharedRegion</c>).
/// </summary>
public interface IRegionBacking
{
    /// <summary>A zeroed block of <paramref name="bytes"/> that never moves and is never handed out twice.</summary>
    Memory<byte> Allocate(int bytes);
}

/// <summary>Blocks from the pinned object heap: the garbage collector never moves them.</summary>
public sealed class PinnedArrayBacking : IRegionBacking
{
    public static readonly PinnedArrayBacking Instance = new();

    public Memory<byte> Allocate(int bytes) => GC.AllocateArray<byte>(bytes, pinned: true);
}
