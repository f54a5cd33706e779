using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Transport.SharedMemory;

namespace Leasehold.Tests.Transport.SharedMemory;

/// <summary>The shared region's format on one thread: values round-trip, null differs from empty, extents are reused, limits are refused cleanly.</summary>
public class SharedRegionTests
{
    private static readonly RegionKey Key = new(Node: 1, Incarnation: 3);

    [Fact]
    public void Values_of_every_size_round_trip_through_another_mapping()
    {
        using var dir = new ShmTestDirectory();
        using var region = dir.Create("c", Key, maxValueBytes: 5000);
        using var other = dir.Open("c", Key);
        int[] sizes = [0, 1, 2, 63, 64, 65, 127, 128, 129, 1000, 1024, 1025, 4095, 4096, 4097, 5000];
        for (int i = 0; i < sizes.Length; i++)
        {
            var value = Enumerable.Range(0, sizes[i]).Select(b => (byte)(b * 7 + i)).ToArray();
            region.WriteValueThenFlag(i, value, flag: 10 + i);
        }
        for (int i = 0; i < sizes.Length; i++)
        {
            var seen = other.Read(i);
            Assert.Equal(10 + i, seen.Flag);
            Assert.Equal(Enumerable.Range(0, sizes[i]).Select(b => (byte)(b * 7 + i)).ToArray(), seen.Value);
            Assert.Equal(10 + i, other.Flag(i));
        }
    }

    [Fact]
    public void An_untouched_slot_reads_as_no_owner_and_null_without_the_file_being_initialised()
    {
        using var dir = new ShmTestDirectory();
        using var region = dir.Create("c", Key);
        Assert.Equal(new SlotSnapshot(RegionMemory.NoOwner, null), region.Read(4095));
        Assert.Equal(RegionMemory.NoOwner, region.Flag(17));
        Assert.Equal(new SlotHeader(RegionMemory.NoOwner, RegionMemory.NullLength, 0, 0, 0), region.Header(17));
        Assert.Equal(0, region.ValueBytesUsed);
    }

    [Fact]
    public void Null_and_empty_values_differ_and_a_null_keeps_the_extent_for_the_next_value()
    {
        using var dir = new ShmTestDirectory();
        using var region = dir.Create("c", Key);
        region.WriteValue(1, [1, 2, 3]);
        var extent = region.Header(1);
        region.WriteValue(1, null);
        Assert.Null(region.Read(1).Value);
        Assert.Equal(RegionMemory.NullLength, region.Header(1).Length);
        region.WriteValue(1, []);
        Assert.Equal(Array.Empty<byte>(), region.Read(1).Value);
        Assert.True(region.TryRead(1, Span<byte>.Empty, out _, out int length));
        Assert.Equal(0, length);
        region.WriteValue(1, [9]);
        Assert.Equal((extent.Offset, extent.Capacity), (region.Header(1).Offset, region.Header(1).Capacity));
        Assert.Equal(64, region.ValueBytesUsed);
    }

    [Fact]
    public void A_value_that_outgrows_its_extent_moves_and_the_freed_extent_is_reused_by_the_next_value_of_its_class()
    {
        using var dir = new ShmTestDirectory();
        using var region = dir.Create("c", Key);
        region.WriteValue(1, new byte[100]); // a 128-byte extent
        long first = region.Header(1).Offset;
        region.WriteValue(1, new byte[200]); // moves to 256 bytes; 128 goes to its free list
        Assert.Equal(256, region.Header(1).Capacity);
        Assert.NotEqual(first, region.Header(1).Offset);
        long used = region.ValueBytesUsed;
        using var other = dir.Open("c", Key);
        other.WriteValue(2, new byte[65]); // another mapping allocates from the same free list
        Assert.Equal(first, other.Header(2).Offset);
        Assert.Equal(used, region.ValueBytesUsed);
        Assert.Equal(new byte[200], region.Read(1).Value);
    }

    [Fact]
    public void Every_change_advances_the_sequence_and_fetch_and_add_returns_the_value_before()
    {
        using var dir = new ShmTestDirectory();
        using var region = dir.Create("c", Key);
        region.WriteValueThenFlag(1, [1], 4);
        Assert.True(region.CompareAndSwapFlag(1, 4, 5));
        Assert.False(region.CompareAndSwapFlag(1, 4, 6));
        region.WriteFlag(1, 7);
        region.WriteValue(1, [2]);
        Assert.Equal(4UL, region.FetchAndAdd(1, 1UL << 40));
        Assert.Equal(4 + (1UL << 40), region.Header(1).Sequence);
        Assert.Equal(7, region.Flag(1));
    }

    [Fact]
    public void A_value_over_the_maximum_or_a_slot_out_of_range_is_refused_with_its_sizes_and_nothing_changes()
    {
        using var dir = new ShmTestDirectory();
        using var region = dir.Create("c", Key, maxValueBytes: 100);
        region.WriteValueThenFlag(1, [1], 2);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => region.WriteValueThenFlag(1, new byte[101], 3));
        Assert.Contains("101 bytes exceeds", e.Message);
        Assert.Contains("100 bytes", e.Message);
        var slot = Assert.Throws<ArgumentOutOfRangeException>(() => region.Read(4096));
        Assert.Contains("slots 0 to 4095", slot.Message);
        AssertSlot(region, 1, 2, [1]);
    }

    [Fact]
    public void A_full_value_area_refuses_the_write_naming_the_region_and_leaves_the_slot_as_it_was()
    {
        using var dir = new ShmTestDirectory();
        using var region = dir.Create("c", Key, maxValueBytes: 1024, size: new SharedRegionSize(16, 2112));
        region.WriteValue(0, new byte[1024]);
        region.WriteValue(1, new byte[1000]);
        region.WriteValueThenFlag(2, [5], 8);
        var e = Assert.Throws<SharedRegionFullException>(() => region.WriteValueThenFlag(2, new byte[900], 9));
        Assert.Contains("incarnation 3", e.Message);
        Assert.Contains("2112 bytes is full", e.Message);
        AssertSlot(region, 2, 8, [5]); // and the slot is not left mid-write
        region.WriteValue(2, [6]);
        Assert.Equal(new byte[] { 6 }, region.Read(2).Value);
    }

    [Fact]
    public void A_slot_left_mid_write_fails_readers_and_writers_with_an_error_naming_the_slot_and_region()
    {
        using var dir = new ShmTestDirectory();
        using var region = dir.Create("c", Key);
        region.WriteValueThenFlag(6, [1, 2], 3);
        using var reader = dir.Open("c", Key);
        reader.StuckAfterWaits = 30;
        region.AbandonWriteForTest(6);

        var e = Assert.Throws<SlotWriteStuckException>(() => reader.Read(6));
        Assert.Equal(6, e.Slot);
        Assert.Contains("slot 6", e.Message);
        Assert.Contains("node 1, incarnation 3", e.Message);
        Assert.Contains("writer probably died", e.Message);
        Assert.Throws<SlotWriteStuckException>(() => reader.WriteValue(6, [9]));
        Assert.Throws<SlotWriteStuckException>(() => reader.Header(6));
        // Single-word operations need no seqlock and still work; other slots are untouched.
        Assert.Equal(3, reader.Flag(6));
        Assert.True(reader.CompareAndSwapFlag(6, 3, 4));
        Assert.Equal(new SlotSnapshot(RegionMemory.NoOwner, null), reader.Read(7));
    }

    [Fact]
    public void Operations_after_the_region_is_unmapped_are_refused_not_run_on_unmapped_memory()
    {
        using var dir = new ShmTestDirectory();
        var region = dir.Create("c", Key);
        region.DisposeAndDelete();
        Assert.False(File.Exists(region.Path));
        var e = Assert.Throws<ObjectDisposedException>(() => region.Read(1));
        Assert.Contains("unmapped", e.Message);
    }

    private static void AssertSlot(SharedRegion region, int slot, int flag, byte[] value)
    {
        var seen = region.Read(slot);
        Assert.Equal(flag, seen.Flag);
        Assert.Equal(value, seen.Value);
    }
}
