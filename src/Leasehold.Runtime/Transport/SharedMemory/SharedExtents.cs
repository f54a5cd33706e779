using System.Numerics;
using System.Runtime.CompilerServices;

namespace Leasehold.Runtime.Transport.SharedMemory;

/// <summary>
/// The value allocator of a shared region, with all its state in the mapped file, so every process that maps
/// the file allocates and frees in it. Extents are powers of two from 64 bytes up to the largest value's, as in
/// the in-process region. Fresh space comes from a bump pointer in the file header (a compare-and-swap loop,
/// so a full area stays exactly full rather than overshooting); freed extents go on one lock-free stack per
/// class (a Treiber stack). A free extent's first 4 bytes hold the index of the next one down the stack.
/// <para>
/// <b>ABA.</b> A pop reads the head's successor and swings the head to it with one compare-and-swap. Between
/// the read and the swap another process could pop that head, pop its successor and push the head back: the
/// head word would match while the successor is stale. The head is therefore a 64-bit word of a 32-bit tag,
/// bumped by every push and pop, over a 32-bit index, so the swap fails unless nothing happened in between.
/// The successor read may see bytes of an extent that was just reused: harmless, since the swap then fails.
/// </para>
/// <para>
/// A process that dies between taking an extent and linking it into a slot loses that extent: a leak, bounded
/// by one extent per write in flight, and gone when the incarnation's file is deleted.
/// </para>
/// </summary>
internal sealed unsafe class SharedExtents
{
    public const int MinExtentBytes = RegionFileLayout.ExtentUnitBytes;
    private const int MinExtentBits = 6;

    private readonly byte* _fileHeader;
    private readonly byte* _area;
    private readonly long _areaBytes;
    private readonly int _classCount;
    private readonly string _region;

    public SharedExtents(byte* fileHeader, byte* area, long areaBytes, int classCount, string region)
    {
        _fileHeader = fileHeader;
        _area = area;
        _areaBytes = areaBytes;
        _classCount = classCount;
        _region = region;
    }

    public long AreaBytes => _areaBytes;

    /// <summary>Bytes handed out by the bump pointer so far (extents in use or on a free list).</summary>
    public long BumpedBytes => Volatile.Read(ref Bump);

    public int MaxExtentBytes => MinExtentBytes << (_classCount - 1);

    /// <summary>The extent a value of <paramref name="length"/> bytes takes: the next power of two, 64 bytes at least.</summary>
    public static int ExtentBytesFor(int length) =>
        length <= MinExtentBytes ? MinExtentBytes : (int)BitOperations.RoundUpToPowerOf2((uint)length);

    /// <summary>The start, in the value area, of a free extent of <paramref name="extentBytes"/> (a class size).</summary>
    public long Allocate(int extentBytes)
    {
        int c = ClassOf(extentBytes);
        ref ulong head = ref FreeHead(c);
        while (true)
        {
            ulong seen = Volatile.Read(ref head);
            uint index = (uint)seen;
            if (index == 0) break;
            long offset = OffsetOf(index);
            if (offset > _areaBytes - extentBytes) throw Corrupt($"the free list of {extentBytes}-byte extents points at offset {offset}, outside the {_areaBytes}-byte value area");
            // Possibly stale (the extent may have been popped and reused meanwhile): the tagged swap below then fails.
            uint next = Volatile.Read(ref *(uint*)(_area + offset));
            if (Interlocked.CompareExchange(ref head, Tagged(seen, next), seen) == seen) return offset;
        }
        ref long bump = ref Bump;
        while (true)
        {
            long used = Volatile.Read(ref bump);
            if (used < 0 || used % MinExtentBytes != 0) throw Corrupt($"its bump pointer is {used}, not a 64-byte boundary within the value area");
            if (used + extentBytes > _areaBytes)
                throw new SharedRegionFullException(
                    $"{_region}: its value area of {_areaBytes} bytes is full ({used} bytes handed out, and no free extent of {extentBytes} bytes); give the region a larger value area");
            if (Interlocked.CompareExchange(ref bump, used + extentBytes, used) == used) return used;
        }
    }

    private SharedRegionCorruptException Corrupt(string detail) => new(_region, -1, detail);

    public void Free(long offset, int extentBytes)
    {
        ref ulong head = ref FreeHead(ClassOf(extentBytes));
        uint index = IndexOf(offset);
        while (true)
        {
            ulong seen = Volatile.Read(ref head);
            Volatile.Write(ref *(uint*)(_area + offset), (uint)seen);
            if (Interlocked.CompareExchange(ref head, Tagged(seen, index), seen) == seen) return;
        }
    }

    /// <summary>Whether an extent as a slot header describes it lies inside the value area: a header read torn, or a corrupt file, fails this.</summary>
    public bool IsPlausible(long offset, int capacity) =>
        capacity >= MinExtentBytes && capacity <= MaxExtentBytes && BitOperations.IsPow2(capacity)
        && offset >= 0 && offset % MinExtentBytes == 0 && offset <= _areaBytes - capacity;

    public Span<byte> Bytes(long offset, int length) => new(_area + offset, length);

    private ref long Bump => ref *(long*)(_fileHeader + RegionFileLayout.BumpOffset);

    private ref ulong FreeHead(int c) => ref *(ulong*)(_fileHeader + RegionFileLayout.FreeHeadsOffset + c * sizeof(ulong));

    private static ulong Tagged(ulong previous, uint index) => ((previous >> 32) + 1) << 32 | index;

    private static long OffsetOf(uint index) => (long)(index - 1) * MinExtentBytes;

    private static uint IndexOf(long offset) => checked((uint)(offset / MinExtentBytes + 1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ClassOf(int extentBytes)
    {
        int c = BitOperations.Log2((uint)extentBytes) - MinExtentBits;
        if ((uint)c >= (uint)_classCount) throw new ArgumentOutOfRangeException(nameof(extentBytes), extentBytes, $"{_region} has no extent class of {extentBytes} bytes");
        return c;
    }
}
