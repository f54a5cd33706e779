namespace Leasehold.Runtime.Transport.Regions;

/// <summary>
/// The fixed 32-byte header of one slot, in native byte order. A later shared-memory reader reads these
/// offsets directly, so they are part of the region's format, not an implementation detail.
/// </summary>
public static class SlotHeaderLayout
{
    public const int Size = 32;
    /// <summary>int32: the id of the node allowed to touch the object, or <see cref="RegionMemory.NoOwner"/>. Written last.</summary>
    public const int FlagOffset = 0;
    /// <summary>int32: the value's length in bytes, or <see cref="RegionMemory.NullLength"/> for a null value.</summary>
    public const int LengthOffset = 4;
    /// <summary>int32: the size of the slot's extent (a power of two of at least 64 bytes), or 0 while it has none.</summary>
    public const int CapacityOffset = 8;
    /// <summary>int32, unused: room for a later reader protocol (a write-in-progress mark, for one).</summary>
    public const int ReservedOffset = 12;
    /// <summary>int64: where the extent lies, the segment index in the high 32 bits and the byte offset within it in the low 32.</summary>
    public const int OffsetOffset = 16;
    /// <summary>uint64: advanced by one by every operation that changes the slot; the target of fetch-and-add.</summary>
    public const int SequenceOffset = 24;
}

/// <summary>One slot's header, decoded.</summary>
public readonly record struct SlotHeader(int Flag, int Length, int Capacity, long Offset, ulong Sequence);

/// <summary>
/// A slot's flag and a copy of its value taken in one atomic read. The array is the reader's own: no later
/// write reaches it, and changing it changes nothing in the region. A null value and an empty one differ.
/// </summary>
public readonly record struct SlotSnapshot(int Flag, byte[]? Value);
