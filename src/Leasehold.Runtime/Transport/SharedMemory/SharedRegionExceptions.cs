namespace Leasehold.Runtime.Transport.SharedMemory;

/// <summary>
/// A slot stayed mid-write (its seqlock odd) for longer than any live writer holds it: the writer most likely
/// died during the write. The operation fails rather than return a value that may be half written; the layer
/// above fails its batch. The slot stays unusable for the rest of the incarnation, whose file is then dropped.
/// </summary>
public sealed class SlotWriteStuckException(string region, int slot, int seqlock, int spins)
    : InvalidOperationException($"slot {slot} of {region} has been mid-write (seqlock {seqlock}, odd) through {spins} waits: its writer probably died during the write, so the slot's value cannot be trusted")
{
    public string Region { get; } = region;
    public int Slot { get; } = slot;
}

/// <summary>
/// A slot header that stays the same across a read yet describes an extent outside the value area, or allocator
/// state pointing outside it (<see cref="Slot"/> −1): the file is corrupt, and nothing is read or written through it.
/// </summary>
public sealed class SharedRegionCorruptException(string region, int slot, string detail)
    : InvalidOperationException(slot >= 0 ? $"slot {slot} of {region} is corrupt: {detail}" : $"{region} is corrupt: {detail}")
{
    public int Slot { get; } = slot;
}

/// <summary>The region's fixed value area has no room left for an extent.</summary>
public sealed class SharedRegionFullException(string message) : InvalidOperationException(message);

/// <summary>A region file that cannot be used: missing, truncated, of another format or version, or not the region asked for.</summary>
public sealed class RegionFileException(string path, string reason)
    : IOException($"region file {path}: {reason}")
{
    public string Path { get; } = path;
    public string Reason { get; } = reason;
}
