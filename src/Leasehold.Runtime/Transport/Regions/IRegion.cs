namespace Leasehold.Runtime.Transport.Regions;

/// <summary>
/// One node's registered memory region, as its owner and <see cref="IOneSided"/> use it: slots of a flag, a
/// value and a sequence. Two implementations: <see cref="RegionMemory"/> (in one process, atomic under a lock)
/// and <c>SharedRegion</c> (a memory-mapped file other processes map too, lock-free with a per-slot seqlock).
/// Both write the value before the flag, with release semantics, and return a copy on every read.
/// </summary>
public interface IRegion
{
    int Owner { get; }
    int MaxValueBytes { get; }

    /// <summary>Refuses a value larger than <see cref="MaxValueBytes"/> before anything in the region changes.</summary>
    void CheckValueSize(byte[]? value);

    /// <summary>The flag alone, a volatile read that sees at least every flag written before it.</summary>
    int Flag(int slot);

    SlotHeader Header(int slot);

    /// <summary>The flag and a copy of the value, taken together.</summary>
    SlotSnapshot Read(int slot);

    /// <summary>Copies the value into <paramref name="destination"/>; false, with nothing copied, when it does not fit.</summary>
    bool TryRead(int slot, Span<byte> destination, out int flag, out int length);

    void WriteValueThenFlag(int slot, byte[]? value, int flag);

    void WriteValue(int slot, byte[]? value);

    void WriteFlag(int slot, int flag);

    /// <summary>Sets the flag to <paramref name="desired"/> if it is <paramref name="expected"/>; true if it did.</summary>
    bool CompareAndSwapFlag(int slot, int expected, int desired);

    /// <summary>Adds <paramref name="delta"/> to the slot's sequence and returns the sequence before the addition.</summary>
    ulong FetchAndAdd(int slot, ulong delta);
}
