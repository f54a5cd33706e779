using System.Text;
using Leasehold.Runtime.Transport.Regions;
using L = Leasehold.Runtime.Transport.SharedMemory.RegionFileLayout;

namespace Leasehold.Runtime.Transport.SharedMemory;

/// <summary>A region file's header as read from its bytes, checked field by field before anything trusts it: the file may be stale, truncated or foreign.</summary>
internal readonly record struct RegionFileHeader(
    ulong Magic, int Version, int HeaderBytes, int Node, int Incarnation, int OwnerPid, int MaxValueBytes, int SlotCapacity,
    int ClassCount, long ValueAreaOffset, long ValueAreaBytes, long FileBytes, string? Cluster)
{
    public static unsafe RegionFileHeader Read(byte* h)
    {
        ulong magic = Volatile.Read(ref SharedRegion.Field<ulong>(h, L.MagicOffset));
        int clusterBytes = SharedRegion.Field<int>(h, L.ClusterOffset);
        string? cluster = clusterBytes is >= 0 and <= L.MaxClusterBytes
            ? Encoding.UTF8.GetString(new ReadOnlySpan<byte>(h + L.ClusterOffset + sizeof(int), clusterBytes))
            : null;
        return new RegionFileHeader(magic, SharedRegion.Field<int>(h, L.VersionOffset), SharedRegion.Field<int>(h, L.HeaderBytesOffset),
            SharedRegion.Field<int>(h, L.NodeOffset), SharedRegion.Field<int>(h, L.IncarnationOffset), SharedRegion.Field<int>(h, L.OwnerPidOffset),
            SharedRegion.Field<int>(h, L.MaxValueBytesOffset), SharedRegion.Field<int>(h, L.SlotCapacityOffset), SharedRegion.Field<int>(h, L.ClassCountOffset),
            SharedRegion.Field<long>(h, L.ValueAreaOffsetOffset), SharedRegion.Field<long>(h, L.ValueAreaBytesOffset), SharedRegion.Field<long>(h, L.FileBytesOffset),
            cluster);
    }

    /// <summary>Reads the header of the file at <paramref name="path"/> without mapping it; null if the file is shorter than a header.</summary>
    public static unsafe RegionFileHeader? ReadFile(string path)
    {
        var bytes = new byte[L.FileHeaderBytes];
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            if (stream.Length < L.FileHeaderBytes) return null;
            stream.ReadExactly(bytes);
        }
        fixed (byte* h = bytes) return Read(h);
    }

    /// <summary>Why this header cannot describe a usable region in a file of <paramref name="actualBytes"/>, or null.</summary>
    public string? Problem(long actualBytes)
    {
        if (Magic == 0) return "has no magic number: its creator has not finished writing it, or it is not a region file";
        if (Magic != L.Magic) return $"bad magic number 0x{Magic:X16}: not a Leasehold region file";
        if (Version != L.Version) return $"format version {Version}; this build reads version {L.Version}";
        if (HeaderBytes != L.FileHeaderBytes) return $"a {HeaderBytes}-byte file header; the format's is {L.FileHeaderBytes}";
        if (MaxValueBytes is < 1 or > RegionMemory.MaxSegmentBytes) return $"a maximum value size of {MaxValueBytes} bytes, outside 1 to {RegionMemory.MaxSegmentBytes}";
        if (SlotCapacity is < 1 or > SharedRegion.MaxSlotCapacity) return $"{SlotCapacity} slots, outside 1 to {SharedRegion.MaxSlotCapacity}";
        if (ClassCount != L.ClassCount(MaxValueBytes)) return $"{ClassCount} extent classes where a maximum value size of {MaxValueBytes} bytes needs {L.ClassCount(MaxValueBytes)}";
        if (ValueAreaOffset != L.ValueAreaOffset(SlotCapacity)) return $"its value area at byte {ValueAreaOffset} where {SlotCapacity} slots put it at {L.ValueAreaOffset(SlotCapacity)}";
        if (ValueAreaBytes < SharedExtents.ExtentBytesFor(MaxValueBytes) || ValueAreaBytes > SharedRegion.MaxValueAreaBytes || ValueAreaBytes % L.ExtentUnitBytes != 0)
            return $"a value area of {ValueAreaBytes} bytes, which cannot hold its largest extent or is not whole 64-byte units";
        if (FileBytes != L.FileBytes(SlotCapacity, ValueAreaBytes)) return $"a declared size of {FileBytes} bytes where its layout needs {L.FileBytes(SlotCapacity, ValueAreaBytes)}";
        if (actualBytes != FileBytes) return $"holds {actualBytes} bytes but its header declares {FileBytes}: truncated or extended";
        if (Cluster is null) return "a cluster name of an impossible length";
        return null;
    }

    /// <summary>Why this (well-formed) header is not the region <paramref name="expected"/>, or null.</summary>
    public string? Mismatch(RegionFileIdentity expected) =>
        (Cluster, Node, Incarnation) == (expected.Cluster, expected.Node, expected.Incarnation)
            ? null
            : $"holds the region of cluster '{Cluster}', node {Node}, incarnation {Incarnation}, not cluster '{expected.Cluster}', node {expected.Node}, incarnation {expected.Incarnation}";
}
