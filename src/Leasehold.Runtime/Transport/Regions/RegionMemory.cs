using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Leasehold.Runtime.Transport.Regions;

/// <summary>
/// One node's registered memory region: a 32-byte header per slot (<see cref="SlotHeaderLayout"/>) in chunks
/// of 4,096 slots, and the values in <see cref="ValueExtents"/>, all in blocks from an
/// <see cref="IRegionBacking"/>. No managed object exists per slot. The region of one process: it grows on
/// demand through managed state, which another process cannot follow; <c>SharedRegion</c> is the one for
/// regions shared between processes, behind the same <see cref="IRegion"/>.
/// <para>
/// The owning node calls these methods directly; other nodes reach them only through
/// <see cref="OneSidedMemory"/>. Every operation is atomic under one lock per region. A write stores the value
/// first and the flag last, with release semantics, so a reader that sees a writer's flag also sees the value
/// written before it. Reads copy the value out: no array is ever shared between the region and a reader.
/// </para>
/// </summary>
public sealed class RegionMemory : IRegion
{
    /// <summary>The flag of a slot no node has filled yet.</summary>
    public const int NoOwner = -1;
    /// <summary>The length of a null value (an empty value has length 0).</summary>
    public const int NullLength = -1;
    public const int DefaultMaxValueBytes = 1 << 20;
    public const int DefaultSegmentBytes = 64 << 20;
    /// <summary>A segment's offsets are 32-bit, and one array holds at most this much.</summary>
    public const int MaxSegmentBytes = 1 << 30;
    private const int ChunkBits = 12;
    private const int ChunkSlots = 1 << ChunkBits;

    private readonly Lock _lock = new();
    private readonly IRegionBacking _backing;
    private readonly ValueExtents _values;
    private HeaderChunk?[] _chunks = new HeaderChunk?[16];
    private long _headerBytes;

    public RegionMemory(int owner, int maxValueBytes = DefaultMaxValueBytes, int segmentBytes = DefaultSegmentBytes, IRegionBacking? backing = null)
    {
        if (maxValueBytes is < 1 or > MaxSegmentBytes)
            throw new ArgumentOutOfRangeException(nameof(maxValueBytes), maxValueBytes, $"the maximum value size must be between 1 and {MaxSegmentBytes} bytes");
        int maxExtent = ValueExtents.ExtentBytesFor(maxValueBytes);
        if (segmentBytes < maxExtent || segmentBytes > MaxSegmentBytes)
            throw new ArgumentOutOfRangeException(nameof(segmentBytes), segmentBytes,
                $"a segment must hold the largest value's extent ({maxExtent} bytes for a maximum value size of {maxValueBytes} bytes) and be at most {MaxSegmentBytes} bytes");
        Owner = owner;
        MaxValueBytes = maxValueBytes;
        _backing = backing ?? PinnedArrayBacking.Instance;
        _values = new ValueExtents(_backing, maxExtent, segmentBytes);
    }

    public int Owner { get; }
    public int MaxValueBytes { get; }

    /// <summary>Bytes taken from the backing so far, headers and values.</summary>
    public long ReservedBytes
    {
        get { lock (_lock) return _headerBytes + _values.ReservedBytes; }
    }

    /// <summary>Bytes taken from the backing for values so far.</summary>
    public long ReservedValueBytes
    {
        get { lock (_lock) return _values.ReservedBytes; }
    }

    /// <summary>
    /// Refuses a value larger than the region's maximum. Callers check sizes first and fail their workflow with
    /// a reason; this is the last line, before anything in the region changes.
    /// </summary>
    public void CheckValueSize(byte[]? value)
    {
        if (value is not null && value.Length > MaxValueBytes)
            throw new ArgumentOutOfRangeException(nameof(value), value.Length,
                $"a value of {value.Length} bytes exceeds region {Owner}'s maximum value size of {MaxValueBytes} bytes (MaxValueBytes)");
    }

    /// <summary>The flag alone, without the lock: a volatile read that sees at least every flag written before it.</summary>
    public int Flag(int slot)
    {
        var chunks = Volatile.Read(ref _chunks);
        int c = ChunkOf(slot);
        var chunk = c < chunks.Length ? Volatile.Read(ref chunks[c]) : null;
        if (chunk is null) return NoOwner;
        return Volatile.Read(ref Field<int>(chunk.Bytes.Span, HeaderAt(slot) + SlotHeaderLayout.FlagOffset));
    }

    public SlotHeader Header(int slot)
    {
        lock (_lock)
        {
            var h = HeaderOf(slot);
            return new SlotHeader(FlagOf(h), LengthOf(h), CapacityOf(h), OffsetOf(h), SequenceOf(h));
        }
    }

    /// <summary>The header's raw bytes, as a reader in another process would see them.</summary>
    internal void CopyHeader(int slot, Span<byte> destination)
    {
        lock (_lock) HeaderOf(slot).CopyTo(destination);
    }

    /// <summary>The flag and a copy of the value, in one atomic read.</summary>
    public SlotSnapshot Read(int slot)
    {
        lock (_lock)
        {
            var h = HeaderOf(slot);
            int length = LengthOf(h);
            if (length == NullLength) return new SlotSnapshot(FlagOf(h), null);
            if (length == 0) return new SlotSnapshot(FlagOf(h), []);
            var copy = GC.AllocateUninitializedArray<byte>(length);
            _values.Bytes(OffsetOf(h), length).CopyTo(copy);
            return new SlotSnapshot(FlagOf(h), copy);
        }
    }

    /// <summary>
    /// Reads the flag and copies the value into <paramref name="destination"/>, allocating nothing. The length is
    /// <see cref="NullLength"/> for a null value. False, with nothing copied, when the value is longer than
    /// <paramref name="destination"/>: <paramref name="length"/> then says how long it is.
    /// </summary>
    public bool TryRead(int slot, Span<byte> destination, out int flag, out int length)
    {
        lock (_lock)
        {
            var h = HeaderOf(slot);
            flag = FlagOf(h);
            length = LengthOf(h);
            if (length > destination.Length) return false;
            if (length > 0) _values.Bytes(OffsetOf(h), length).CopyTo(destination);
            return true;
        }
    }

    public void WriteValueThenFlag(int slot, byte[]? value, int flag)
    {
        CheckValueSize(value);
        lock (_lock)
        {
            var h = HeaderOf(slot);
            StoreValue(h, value);
            Changed(h);
            PublishFlag(h, flag);
        }
    }

    public void WriteValue(int slot, byte[]? value)
    {
        CheckValueSize(value);
        lock (_lock)
        {
            var h = HeaderOf(slot);
            StoreValue(h, value);
            Changed(h);
        }
    }

    public void WriteFlag(int slot, int flag)
    {
        lock (_lock)
        {
            var h = HeaderOf(slot);
            Changed(h);
            PublishFlag(h, flag);
        }
    }

    /// <summary>Sets the flag to <paramref name="desired"/> if it is <paramref name="expected"/>; true if it did.</summary>
    public bool CompareAndSwapFlag(int slot, int expected, int desired)
    {
        lock (_lock)
        {
            var h = HeaderOf(slot);
            if (FlagOf(h) != expected) return false;
            Changed(h);
            PublishFlag(h, desired);
            return true;
        }
    }

    /// <summary>Adds <paramref name="delta"/> to the slot's sequence and returns the sequence before the addition.</summary>
    public ulong FetchAndAdd(int slot, ulong delta)
    {
        lock (_lock)
        {
            ref ulong sequence = ref Field<ulong>(HeaderOf(slot), SlotHeaderLayout.SequenceOffset);
            ulong old = sequence;
            Volatile.Write(ref sequence, old + delta);
            return old;
        }
    }

    /// <summary>Writes the value's bytes and length. A value that fits the slot's extent is written in place; a larger one moves to a new extent and frees the old.</summary>
    private void StoreValue(Span<byte> h, byte[]? value)
    {
        ref int length = ref Field<int>(h, SlotHeaderLayout.LengthOffset);
        if (value is null)
        {
            length = NullLength;
            return;
        }
        ref int capacity = ref Field<int>(h, SlotHeaderLayout.CapacityOffset);
        ref long offset = ref Field<long>(h, SlotHeaderLayout.OffsetOffset);
        if (value.Length > capacity)
        {
            int extent = ValueExtents.ExtentBytesFor(value.Length);
            long moved = _values.Allocate(extent);
            if (capacity > 0) _values.Free(offset, capacity);
            offset = moved;
            capacity = extent;
        }
        if (value.Length > 0) value.CopyTo(_values.Bytes(offset, value.Length));
        length = value.Length;
    }

    private static void Changed(Span<byte> h)
    {
        ref ulong sequence = ref Field<ulong>(h, SlotHeaderLayout.SequenceOffset);
        Volatile.Write(ref sequence, sequence + 1);
    }

    // Last, with release semantics: whoever reads this flag reads the value and header written before it.
    private static void PublishFlag(Span<byte> h, int flag) => Volatile.Write(ref Field<int>(h, SlotHeaderLayout.FlagOffset), flag);

    private static int FlagOf(Span<byte> h) => Volatile.Read(ref Field<int>(h, SlotHeaderLayout.FlagOffset));
    private static int LengthOf(Span<byte> h) => Field<int>(h, SlotHeaderLayout.LengthOffset);
    private static int CapacityOf(Span<byte> h) => Field<int>(h, SlotHeaderLayout.CapacityOffset);
    private static long OffsetOf(Span<byte> h) => Field<long>(h, SlotHeaderLayout.OffsetOffset);
    private static ulong SequenceOf(Span<byte> h) => Field<ulong>(h, SlotHeaderLayout.SequenceOffset);

    private static ref T Field<T>(Span<byte> bytes, int offset) where T : unmanaged =>
        ref Unsafe.As<byte, T>(ref Unsafe.Add(ref MemoryMarshal.GetReference(bytes), offset));

    /// <summary>The slot's header, its chunk created when first touched. Under the lock.</summary>
    private Span<byte> HeaderOf(int slot)
    {
        int c = ChunkOf(slot);
        var chunk = (c < _chunks.Length ? _chunks[c] : null) ?? AddChunk(c);
        return chunk.Bytes.Span.Slice(HeaderAt(slot), SlotHeaderLayout.Size);
    }

    private HeaderChunk AddChunk(int c)
    {
        if (c >= _chunks.Length)
        {
            var bigger = new HeaderChunk?[Math.Max(c + 1, _chunks.Length * 2)];
            Array.Copy(_chunks, bigger, _chunks.Length);
            Volatile.Write(ref _chunks, bigger);
        }
        var bytes = _backing.Allocate(ChunkSlots * SlotHeaderLayout.Size);
        var span = bytes.Span;
        // Every slot of a new chunk reads as never touched: no owner and a null value (the backing gives zeros).
        for (int offset = 0; offset < span.Length; offset += SlotHeaderLayout.Size)
        {
            Field<int>(span, offset + SlotHeaderLayout.FlagOffset) = NoOwner;
            Field<int>(span, offset + SlotHeaderLayout.LengthOffset) = NullLength;
        }
        var chunk = new HeaderChunk(bytes);
        // Published whole: the lock-free Flag reads a chunk only after its headers are initialised.
        Volatile.Write(ref _chunks[c], chunk);
        _headerBytes += bytes.Length;
        return chunk;
    }

    private static int ChunkOf(int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        return slot >> ChunkBits;
    }

    private static int HeaderAt(int slot) => (slot & (ChunkSlots - 1)) * SlotHeaderLayout.Size;

    /// <summary>A reference type, so the lock-free <see cref="Flag"/> reads a chunk in one atomic load, never a torn <see cref="Memory{T}"/>.</summary>
    private sealed class HeaderChunk(Memory<byte> bytes)
    {
        public readonly Memory<byte> Bytes = bytes;
    }
}
