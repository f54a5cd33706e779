using System.Diagnostics;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Transport.SharedMemory;

namespace Leasehold.Tests.Transport.SharedMemory;

/// <summary>Region files that cannot be trusted are refused with their cause, and stale ones are removed by the rule.</summary>
public class RegionFileTests
{
    private static readonly RegionKey Key = new(Node: 0, Incarnation: 2);

    [Fact]
    public void A_file_with_the_wrong_magic_is_refused_as_not_a_region_file()
    {
        using var dir = new ShmTestDirectory();
        dir.Create("c", Key).Dispose();
        Patch(dir.PathFor("c", Key), RegionFileLayout.MagicOffset, BitConverter.GetBytes(0x1122334455667788UL));
        var e = Assert.Throws<RegionFileException>(() => dir.Open("c", Key));
        Assert.Contains("bad magic number 0x1122334455667788", e.Message);
        Assert.Contains(dir.PathFor("c", Key), e.Message);
    }

    [Fact]
    public void A_file_without_its_magic_yet_is_refused_as_unfinished()
    {
        using var dir = new ShmTestDirectory();
        dir.Create("c", Key).Dispose();
        Patch(dir.PathFor("c", Key), RegionFileLayout.MagicOffset, new byte[8]);
        Assert.Contains("has not finished writing it", Assert.Throws<RegionFileException>(() => dir.Open("c", Key)).Message);
    }

    [Fact]
    public void A_file_of_another_format_version_is_refused_naming_both_versions()
    {
        using var dir = new ShmTestDirectory();
        dir.Create("c", Key).Dispose();
        Patch(dir.PathFor("c", Key), RegionFileLayout.VersionOffset, BitConverter.GetBytes(7));
        Assert.Contains("format version 7; this build reads version 1", Assert.Throws<RegionFileException>(() => dir.Open("c", Key)).Message);
    }

    [Fact]
    public void A_truncated_file_is_refused_before_any_slot_is_touched()
    {
        using var dir = new ShmTestDirectory();
        dir.Create("c", Key).Dispose();
        var path = dir.PathFor("c", Key);
        long full = new FileInfo(path).Length;
        using (var f = new FileStream(path, FileMode.Open)) f.SetLength(full - 4096);
        Assert.Contains($"holds {full - 4096} bytes but its header declares {full}: truncated", Assert.Throws<RegionFileException>(() => dir.Open("c", Key)).Message);
        using (var f = new FileStream(path, FileMode.Open)) f.SetLength(100);
        Assert.Contains("holds 100 bytes, less than the 4096-byte file header", Assert.Throws<RegionFileException>(() => dir.Open("c", Key)).Message);
    }

    [Fact]
    public void A_header_whose_sizes_disagree_with_its_layout_is_refused()
    {
        using var dir = new ShmTestDirectory();
        dir.Create("c", Key).Dispose();
        Patch(dir.PathFor("c", Key), RegionFileLayout.SlotCapacityOffset, BitConverter.GetBytes(1 << 20)); // a forged slot count, past the file's end
        Assert.Contains("its value area at byte", Assert.Throws<RegionFileException>(() => dir.Open("c", Key)).Message);
    }

    [Fact]
    public void Another_regions_file_under_this_name_is_refused_naming_both()
    {
        using var dir = new ShmTestDirectory();
        dir.Create("c", Key).Dispose();
        var path = dir.PathFor("c", Key);
        var e = Assert.Throws<RegionFileException>(() => SharedRegion.Open(path, new RegionFileIdentity("c", Node: 0, Incarnation: 5)));
        Assert.Contains("not cluster 'c', node 0, incarnation 5", e.Message);
    }

    [Fact]
    public void A_missing_file_is_refused_naming_the_path_and_creating_over_an_existing_one_is_refused()
    {
        using var dir = new ShmTestDirectory();
        Assert.Contains("does not exist", Assert.Throws<RegionFileException>(() => dir.Open("c", Key)).Message);
        using var region = dir.Create("c", Key);
        Assert.Contains("already exists", Assert.Throws<RegionFileException>(() => dir.Create("c", Key)).Message);
    }

    [Fact]
    public void A_slot_header_pointing_outside_the_value_area_is_refused_as_corrupt_and_nothing_is_copied_or_written_through_it()
    {
        using var dir = new ShmTestDirectory();
        using var region = dir.Create("c", Key);
        region.WriteValue(5, [1, 2, 3]);
        long header = RegionFileLayout.SlotsOffset + 5L * SlotHeaderLayout.Size;
        Patch(dir.PathFor("c", Key), (int)header + SlotHeaderLayout.OffsetOffset, BitConverter.GetBytes(1L << 40)); // seen through the mapping at once

        var read = Assert.Throws<SharedRegionCorruptException>(() => region.Read(5));
        Assert.Contains("slot 5", read.Message);
        Assert.Contains("outside the", read.Message);
        Assert.Throws<SharedRegionCorruptException>(() => region.TryRead(5, new byte[16], out _, out _));
        Assert.Throws<SharedRegionCorruptException>(() => region.WriteValue(5, [4]));
        Patch(dir.PathFor("c", Key), (int)header + SlotHeaderLayout.LengthOffset, BitConverter.GetBytes(~-7)); // an impossible length
        Assert.Throws<SharedRegionCorruptException>(() => region.Read(5));
    }

    [Fact]
    public void A_free_list_pointing_outside_the_value_area_is_refused_as_corrupt()
    {
        using var dir = new ShmTestDirectory();
        using var region = dir.Create("c", Key);
        Patch(dir.PathFor("c", Key), RegionFileLayout.FreeHeadsOffset, BitConverter.GetBytes(uint.MaxValue));
        var e = Assert.Throws<SharedRegionCorruptException>(() => region.WriteValue(1, [1]));
        Assert.Contains("free list of 64-byte extents", e.Message);
        Assert.Equal(new SlotSnapshot(RegionMemory.NoOwner, null).Flag, region.Flag(1));
        Assert.Null(region.Read(1).Value);
    }

    [Fact]
    public void Stale_removal_deletes_files_of_own_nodes_and_of_dead_owners_and_keeps_the_rest()
    {
        using var dir = new ShmTestDirectory();
        int dead = DeadPid();
        int live = Environment.ProcessId;
        dir.Create("bank", new RegionKey(0, 1), ownerPid: live).Dispose();   // own node: stale whoever made it
        dir.Create("bank", new RegionKey(1, 1), ownerPid: dead).Dispose();   // a dead owner (a SIGKILL left it)
        dir.Create("bank", new RegionKey(2, 1), ownerPid: live).Dispose();   // another live process's node
        dir.Create("bank2", new RegionKey(1, 1), ownerPid: dead).Dispose();  // another cluster
        File.WriteAllBytes(dir.PathFor("bank", new RegionKey(3, 1)), new byte[10]); // a foreign node's file still being written
        File.WriteAllBytes(Path.Combine(dir.Path, "leasehold-bank-wx-i1.region"), []); // not a region file name

        var removed = ShmRegions.RemoveStale("bank", ownNodes: [0], dir.Path);

        Assert.Equal([dir.PathFor("bank", new RegionKey(0, 1)), dir.PathFor("bank", new RegionKey(1, 1))], removed);
        Assert.Equal(
            ["leasehold-bank-w2-i1.region", "leasehold-bank-w3-i1.region", "leasehold-bank-wx-i1.region", "leasehold-bank2-w1-i1.region"],
            Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        dir.Create("bank", new RegionKey(0, 1)).Dispose(); // the node's file can be created again
    }

    /// <summary>The pid of a process that has exited (and was reaped), so nothing runs under it.</summary>
    private static int DeadPid()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }

    private static void Patch(string path, int offset, byte[] bytes)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        f.Position = offset;
        f.Write(bytes);
    }
}
