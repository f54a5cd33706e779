using System.Numerics;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Runtime.Transport.SharedMemory;

/// <summary>
/// The byte layout of a shared region file, in native byte order. Everything a process needs to operate on
/// the region is in the file: a 4 KiB file header (identity, sizes, the value allocator's state), a fixed
/// array of 32-byte slot headers, then the value area. The file is sized once, at creation, and is sparse:
/// on tmpfs only the pages a process touches take memory.
/// <para>
/// A zero page must read as untouched slots, so a fresh file needs no initialisation: the slot's flag and
/// length are stored bitwise complemented (<c>~</c>), which turns <see cref="RegionMemory.NoOwner"/> and
/// <see cref="RegionMemory.NullLength"/> (both −1) into 0.
/// </para>
/// </summary>
public static class RegionFileLayout
{
    /// <summary>"LHSHMRG1" read as a little-endian word. Written last at creation: a file without it is not ready.</summary>
    public const ulong Magic = 0x3147524D4853484CUL;
    public const int Version = 1;
    public const int FileHeaderBytes = 4096;
    public const int PageBytes = 4096;

    // The file header.
    public const int MagicOffset = 0;          // uint64
    public const int VersionOffset = 8;        // int32
    public const int HeaderBytesOffset = 12;   // int32: FileHeaderBytes
    public const int NodeOffset = 16;          // int32
    public const int IncarnationOffset = 20;   // int32
    public const int OwnerPidOffset = 24;      // int32: the creating process, for the stale-file rule
    public const int MaxValueBytesOffset = 28; // int32
    public const int SlotCapacityOffset = 32;  // int32
    public const int ClassCountOffset = 36;    // int32: extent classes, 64 B up to the largest value's extent
    public const int ValueAreaOffsetOffset = 40; // int64
    public const int ValueAreaBytesOffset = 48;  // int64
    public const int FileBytesOffset = 56;       // int64
    /// <summary>int64: bytes of the value area handed out by the bump pointer; alone on its cache line.</summary>
    public const int BumpOffset = 128;
    /// <summary>uint64 per extent class: the free list's head, a 32-bit ABA tag over a 32-bit extent index (+1; 0 is empty).</summary>
    public const int FreeHeadsOffset = 192;
    public const int MaxClasses = 32;
    /// <summary>int32 length, then the cluster name's UTF-8 bytes.</summary>
    public const int ClusterOffset = 512;
    public const int MaxClusterBytes = 128;

    // A slot header: the offsets of SlotHeaderLayout, with the reserved word used as the seqlock.
    /// <summary>int32: even when the slot is at rest, odd while a writer holds it (see <see cref="SharedRegion"/>).</summary>
    public const int SeqlockOffset = SlotHeaderLayout.ReservedOffset;

    /// <summary>Extents are handed out in units of the smallest one; an extent's index is its offset in these units.</summary>
    public const int ExtentUnitBytes = 64;

    public static long SlotsOffset => FileHeaderBytes;

    public static long ValueAreaOffset(int slotCapacity) => RoundUpToPage(SlotsOffset + (long)slotCapacity * SlotHeaderLayout.Size);

    public static long FileBytes(int slotCapacity, long valueAreaBytes) => ValueAreaOffset(slotCapacity) + valueAreaBytes;

    /// <summary>Extent classes for values up to <paramref name="maxValueBytes"/>: 64 B, 128 B, … the largest value's extent.</summary>
    public static int ClassCount(int maxValueBytes) =>
        BitOperations.Log2((uint)SharedExtents.ExtentBytesFor(maxValueBytes)) - BitOperations.Log2(ExtentUnitBytes) + 1;

    private static long RoundUpToPage(long bytes) => (bytes + PageBytes - 1) / PageBytes * PageBytes;
}
