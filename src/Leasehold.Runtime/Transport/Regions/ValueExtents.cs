using System.Numerics;

namespace Leasehold.Runtime.Transport.Regions;

/// <summary>
/// A region's value space: power-of-two extents, from <see cref="MinExtentBytes"/> up to the largest value's
/// class, carved from segments taken from the backing as values arrive, with one free list per class.
/// Segments start small and double up to the configured size, so a region of 8-byte values never holds
/// 64 MiB. Not thread-safe: the region calls it under its lock.
/// </summary>
internal sealed class ValueExtents
{
    public const int MinExtentBytes = 64;
    private const int MinExtentBits = 6;
    /// <summary>The first segment's size (unless a larger extent needs more): a few hundred small values.</summary>
    internal const int InitialSegmentBytes = 64 << 10;

    private readonly IRegionBacking _backing;
    private readonly int _segmentBytes;
    private readonly List<long>[] _free;
    private Memory<byte>[] _segments = new Memory<byte>[4];
    private int _segmentCount;
    /// <summary>The bump pointer of the newest segment: everything below it is an extent in use or on a free list.</summary>
    private int _used;

    public ValueExtents(IRegionBacking backing, int maxExtentBytes, int segmentBytes)
    {
        _backing = backing;
        _segmentBytes = segmentBytes;
        _free = new List<long>[ClassOf(maxExtentBytes) + 1];
        for (int c = 0; c < _free.Length; c++) _free[c] = [];
    }

    /// <summary>Bytes taken from the backing for values so far.</summary>
    public long ReservedBytes { get; private set; }

    /// <summary>The extent a value of <paramref name="length"/> bytes takes: the next power of two, 64 bytes at least.</summary>
    public static int ExtentBytesFor(int length) =>
        length <= MinExtentBytes ? MinExtentBytes : (int)BitOperations.RoundUpToPowerOf2((uint)length);

    /// <summary>An extent of <paramref name="extentBytes"/> (a class size): a freed one if there is one, else fresh space.</summary>
    public long Allocate(int extentBytes)
    {
        var free = _free[ClassOf(extentBytes)];
        if (free.Count > 0)
        {
            long reused = free[^1];
            free.RemoveAt(free.Count - 1);
            return reused;
        }
        if (_segmentCount == 0 || _used + extentBytes > _segments[_segmentCount - 1].Length) AddSegment(extentBytes);
        long address = Address(_segmentCount - 1, _used);
        _used += extentBytes;
        return address;
    }

    public void Free(long address, int extentBytes) => _free[ClassOf(extentBytes)].Add(address);

    public Span<byte> Bytes(long address, int length) =>
        _segments[(int)(address >> 32)].Span.Slice((int)address, length);

    private void AddSegment(int extentBytes)
    {
        // The old segment's tail would otherwise be lost: it goes to the free lists in the largest pieces that fit.
        if (_segmentCount > 0) FreeTail();
        int previous = _segmentCount == 0 ? InitialSegmentBytes / 2 : _segments[_segmentCount - 1].Length;
        int size = (int)Math.Min(_segmentBytes, Math.Max(2L * previous, extentBytes));
        if (_segmentCount == _segments.Length) Array.Resize(ref _segments, _segments.Length * 2);
        _segments[_segmentCount++] = _backing.Allocate(size);
        _used = 0;
        ReservedBytes += size;
    }

    private void FreeTail()
    {
        int segment = _segmentCount - 1, end = _segments[segment].Length;
        while (end - _used >= MinExtentBytes)
        {
            int piece = Math.Min((int)BitOperations.RoundUpToPowerOf2((uint)(end - _used + 1)) / 2, MaxExtentBytes);
            Free(Address(segment, _used), piece);
            _used += piece;
        }
    }

    private int MaxExtentBytes => MinExtentBytes << (_free.Length - 1);

    private static long Address(int segment, int offset) => ((long)segment << 32) | (uint)offset;

    private static int ClassOf(int extentBytes) => BitOperations.Log2((uint)extentBytes) - MinExtentBits;
}
