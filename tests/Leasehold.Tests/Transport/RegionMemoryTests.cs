using System.Buffers.Binary;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Tests.Transport;

/// <summary>One region's slots: the header format, values in region memory, in-place rewrites and extent reuse, and the atomic operations.</summary>
public class RegionMemoryTests
{
    [Fact]
    public void A_header_is_32_bytes_with_flag_length_capacity_offset_and_sequence_at_fixed_offsets()
    {
        Assert.True(BitConverter.IsLittleEndian); // the layout is native; every .NET host this runs on is little-endian
        var region = new RegionMemory(owner: 0);
        region.WriteValueThenFlag(5, [1, 2, 3], flag: 7);
        region.WriteValueThenFlag(6, new byte[100], flag: 8);

        var raw = new byte[32];
        region.CopyHeader(6, raw);
        Assert.Equal(8, BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(0)));    // flag
        Assert.Equal(100, BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(4)));  // length
        Assert.Equal(128, BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(8)));  // capacity: the next power of two
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(12)));   // reserved
        Assert.Equal(64L, BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(16))); // offset: segment 0, after slot 5's 64-byte extent
        Assert.Equal(1UL, BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(24))); // sequence: one write
        Assert.Equal(new SlotHeader(8, 100, 128, 64, 1), region.Header(6));
        Assert.Equal(32, SlotHeaderLayout.Size);
    }

    [Fact]
    public void An_untouched_slot_has_no_owner_and_a_null_value_even_in_a_far_chunk()
    {
        var region = new RegionMemory(owner: 0);
        foreach (int slot in new[] { 0, 4095, 4096, 1_000_000 })
        {
            Assert.Equal(RegionMemory.NoOwner, region.Flag(slot));
            Assert.Equal(new SlotSnapshot(RegionMemory.NoOwner, null), region.Read(slot));
            Assert.Equal(new SlotHeader(RegionMemory.NoOwner, RegionMemory.NullLength, 0, 0, 0), region.Header(slot));
        }
    }

    [Fact]
    public void A_null_value_and_an_empty_value_stay_distinct()
    {
        var region = new RegionMemory(owner: 0);
        region.WriteValueThenFlag(1, [], flag: 3);
        region.WriteValueThenFlag(2, null, flag: 3);
        Assert.Equal(0, region.Header(1).Length);
        Assert.Equal(RegionMemory.NullLength, region.Header(2).Length);
        Assert.Empty(Assert.IsType<byte[]>(region.Read(1).Value));
        Assert.Null(region.Read(2).Value);

        // And back: a value written over with null reads as null, not as its old bytes or as empty.
        region.WriteValue(1, [9, 9]);
        region.WriteValue(1, null);
        Assert.Null(region.Read(1).Value);
        region.WriteValue(1, []);
        Assert.Empty(Assert.IsType<byte[]>(region.Read(1).Value));
    }

    [Fact]
    public void A_one_mebibyte_value_round_trips()
    {
        var region = new RegionMemory(owner: 0, maxValueBytes: 1 << 20);
        var value = new byte[1 << 20];
        new Random(1).NextBytes(value);
        region.WriteValueThenFlag(42, value, flag: 2);

        var read = region.Read(42);
        Assert.Equal(2, read.Flag);
        Assert.Equal(value, read.Value);
        var into = new byte[1 << 20];
        Assert.True(region.TryRead(42, into, out int flag, out int length));
        Assert.Equal((2, 1 << 20), (flag, length));
        Assert.Equal(value, into);
    }

    [Fact]
    public void A_value_above_the_maximum_is_refused_by_size_and_the_slot_keeps_its_old_contents()
    {
        var region = new RegionMemory(owner: 3, maxValueBytes: 1000);
        region.WriteValueThenFlag(1, [1, 2, 3], flag: 5);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => region.WriteValueThenFlag(1, new byte[1001], flag: 6));
        Assert.Contains("1001 bytes", e.Message);
        Assert.Contains("1000 bytes", e.Message);
        Assert.Contains("MaxValueBytes", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => region.WriteValue(1, new byte[1001]));

        Assert.Equal(new byte[] { 1, 2, 3 }, region.Read(1).Value);
        Assert.Equal(5, region.Flag(1));
        Assert.Equal(1UL, region.Header(1).Sequence);
        region.WriteValue(1, new byte[1000]); // exactly the maximum fits
        Assert.Equal(1000, region.Read(1).Value!.Length);
    }

    [Fact]
    public void A_too_small_segment_or_a_non_positive_maximum_is_refused_with_the_sizes()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RegionMemory(owner: 0, maxValueBytes: 1 << 20, segmentBytes: 1 << 19));
        Assert.Contains("1048576 bytes", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RegionMemory(owner: 0, maxValueBytes: 0));
    }

    [Fact]
    public void A_read_copy_is_the_readers_own()
    {
        var region = new RegionMemory(owner: 0);
        region.WriteValue(1, [1, 2, 3]);
        var first = region.Read(1).Value!;
        first[0] = 99; // changing the copy changes nothing in the region
        Assert.Equal(new byte[] { 1, 2, 3 }, region.Read(1).Value);

        var written = new byte[] { 4, 5, 6 };
        region.WriteValue(1, written);
        written[0] = 77; // nor does changing the writer's array after the write
        var second = region.Read(1).Value!;
        Assert.Equal(new byte[] { 4, 5, 6 }, second);
        region.WriteValue(1, [7, 8, 9]); // and a later write never reaches an earlier copy
        Assert.Equal(new byte[] { 4, 5, 6 }, second);
        Assert.NotSame(second, region.Read(1).Value);
    }

    [Fact]
    public void TryRead_refuses_a_short_destination_and_says_the_length()
    {
        var region = new RegionMemory(owner: 0);
        region.WriteValueThenFlag(1, [1, 2, 3, 4], flag: 2);
        var small = new byte[3];
        Assert.False(region.TryRead(1, small, out _, out int length));
        Assert.Equal(4, length);
        Assert.Equal(new byte[3], small);
        Assert.True(region.TryRead(2, small, out int flag, out length));
        Assert.Equal((RegionMemory.NoOwner, RegionMemory.NullLength), (flag, length));
    }

    [Fact]
    public void A_rewrite_that_fits_stays_in_place_and_a_larger_one_moves_to_a_bigger_extent()
    {
        var region = new RegionMemory(owner: 0);
        region.WriteValue(1, new byte[100]);
        var first = region.Header(1);
        Assert.Equal(128, first.Capacity);

        region.WriteValue(1, new byte[128]);
        region.WriteValue(1, new byte[10]);
        Assert.Equal((first.Offset, 128), (region.Header(1).Offset, region.Header(1).Capacity));

        region.WriteValue(1, Filled(129, 5));
        var grown = region.Header(1);
        Assert.Equal(256, grown.Capacity);
        Assert.NotEqual(first.Offset, grown.Offset);
        Assert.Equal(Filled(129, 5), region.Read(1).Value);
    }

    [Fact]
    public void An_extent_freed_by_a_move_is_reused_by_the_next_value_of_its_class()
    {
        var region = new RegionMemory(owner: 0);
        region.WriteValue(1, new byte[100]);
        long freed = region.Header(1).Offset;
        region.WriteValue(1, new byte[200]); // moves to 256 bytes and frees its 128
        region.WriteValue(2, Filled(120, 3));
        Assert.Equal(freed, region.Header(2).Offset);
        Assert.Equal(Filled(120, 3), region.Read(2).Value);
        Assert.Equal(new byte[200], region.Read(1).Value);
    }

    [Fact]
    public void Small_values_take_one_small_segment_not_the_configured_size()
    {
        var backing = new CountingBacking();
        var region = new RegionMemory(owner: 0, backing: backing);
        for (int slot = 0; slot < 500; slot++) region.WriteValue(slot, BitConverter.GetBytes((long)slot));

        Assert.Equal(64 << 10, region.ReservedValueBytes); // 500 extents of 64 bytes fit the first segment
        Assert.Equal((64 << 10) + 4096 * 32, backing.Bytes); // that segment and one chunk of headers, all from the backing
        Assert.Equal(region.ReservedBytes, backing.Bytes);
    }

    [Fact]
    public void Ten_thousand_rewrites_of_alternating_sizes_keep_the_region_bounded()
    {
        // Eight slots alternate between small and large values, and every 16th write moves a slot to a fresh
        // larger value: without in-place rewrites and reuse of freed extents this would grow by megabytes.
        var region = new RegionMemory(owner: 0, maxValueBytes: 1 << 16, segmentBytes: 1 << 16);
        var random = new Random(7);
        var model = new Dictionary<int, byte[]>();
        for (int i = 0; i < 10_000; i++)
        {
            int slot = i % 8;
            int size = (i / 8) % 2 == 0 ? random.Next(0, 64) : random.Next(1000, 4097);
            if (i % 16 == 0) region.WriteValue(slot, null); // a null keeps the extent for the next value
            var value = Filled(size, (byte)i);
            region.WriteValue(slot, value);
            model[slot] = value;
        }
        foreach (var (slot, value) in model) Assert.Equal(value, region.Read(slot).Value);
        // Eight slots of at most 8 KiB each: the first 64 KiB segment holds them all.
        Assert.Equal(1 << 16, region.ReservedValueBytes);
    }

    [Fact]
    public void Values_spill_into_new_segments_and_an_old_segments_tail_is_not_lost()
    {
        // 1 KiB segments: two 400-byte values (512-byte extents) fill one, the third needs a second segment.
        var region = new RegionMemory(owner: 0, maxValueBytes: 1024, segmentBytes: 1024);
        region.WriteValue(0, Filled(400, 1));
        region.WriteValue(1, new byte[10]);             // a 64-byte extent: 448 bytes of the first segment are left
        region.WriteValue(2, Filled(400, 2));           // does not fit them: a second segment, the tail to the free lists
        Assert.Equal(2048, region.ReservedValueBytes);
        Assert.Equal(1L << 32, region.Header(2).Offset); // segment 1, offset 0
        region.WriteValue(3, Filled(200, 3));           // a 256-byte extent from the first segment's tail
        Assert.Equal(576L, region.Header(3).Offset);
        Assert.Equal(2048, region.ReservedValueBytes);
        Assert.Equal(Filled(400, 1), region.Read(0).Value);
        Assert.Equal(Filled(400, 2), region.Read(2).Value);
        Assert.Equal(Filled(200, 3), region.Read(3).Value);
    }

    [Fact]
    public void CompareAndSwapFlag_swaps_only_from_the_expected_flag()
    {
        var region = new RegionMemory(owner: 0);
        Assert.True(region.CompareAndSwapFlag(1, RegionMemory.NoOwner, 4));
        Assert.False(region.CompareAndSwapFlag(1, RegionMemory.NoOwner, 5));
        Assert.Equal(4, region.Flag(1));
        Assert.Equal(1UL, region.Header(1).Sequence); // a failed swap changes nothing
        Assert.True(region.CompareAndSwapFlag(1, 4, 6));
        Assert.Equal(6, region.Flag(1));
    }

    [Fact]
    public void FetchAndAdd_returns_the_sequence_before_adding()
    {
        var region = new RegionMemory(owner: 0);
        Assert.Equal(0UL, region.FetchAndAdd(1, 5));
        Assert.Equal(5UL, region.FetchAndAdd(1, 1));
        region.WriteValueThenFlag(1, [1], flag: 2); // every change bumps the sequence once
        Assert.Equal(7UL, region.FetchAndAdd(1, 0));
        Assert.Equal(7UL, region.Header(1).Sequence);
    }

    [Fact]
    public void Every_kind_of_write_bumps_the_sequence_once()
    {
        var region = new RegionMemory(owner: 0);
        region.WriteValueThenFlag(1, [1], 1);
        region.WriteValue(1, [2]);
        region.WriteFlag(1, 3);
        region.CompareAndSwapFlag(1, 3, 4);
        Assert.Equal(4UL, region.Header(1).Sequence);
        Assert.Equal(4, region.Read(1).Flag);
        Assert.Equal(new byte[] { 2 }, region.Read(1).Value);
    }

    [Fact]
    public void A_negative_slot_is_refused()
    {
        var region = new RegionMemory(owner: 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => region.Read(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.WriteFlag(-1, 0));
    }

    internal static byte[] Filled(int length, byte seed)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++) bytes[i] = (byte)(seed + i);
        return bytes;
    }

    /// <summary>Counts what the region takes from its backing, independently of the region's own accounting.</summary>
    private sealed class CountingBacking : IRegionBacking
    {
        public long Bytes { get; private set; }

        public Memory<byte> Allocate(int bytes)
        {
            Bytes += bytes;
            return PinnedArrayBacking.Instance.Allocate(bytes);
        }
    }
}
