using System.Runtime.CompilerServices;
using System.Text;
using Leasehold.Runtime.Transport.Regions;
using L = Leasehold.Runtime.Transport.SharedMemory.RegionFileLayout;

namespace Leasehold.Runtime.Transport.SharedMemory;

/// <summary>
/// A region that lives entirely in a memory-mapped file (<see cref="RegionFileLayout"/>): its owner calls it
/// directly, and other processes map the same file and operate on the same bytes, so there is no managed lock
/// and no managed state: every operation is a load, a store or an interlocked operation on the mapping.
/// <para>
/// <b>The seqlock.</b> A slot's value and its length, capacity and offset are guarded by a per-slot sequence
/// word (<see cref="RegionFileLayout.SeqlockOffset"/>). A writer swaps it from even to odd (so two writers never
/// interleave), stores the value, its header fields and, for a write-then-flag, the flag (release), and makes it
/// even again (release). A reader reads it (acquire), copies, fences, and re-reads it: it keeps the copy only if
/// the word was even and unchanged, so a torn value is never returned. A writer that died mid-write leaves the
/// word odd; after <see cref="StuckAfterWaits"/> waits on the same odd value (<see cref="SpinWait"/>: spins,
/// then yields and 1 ms sleeps, no long busy-poll) the operation throws <see cref="SlotWriteStuckException"/>.
/// </para>
/// <para>
/// <b>Single words.</b> Compare-and-swap on the flag is one <see cref="Interlocked.CompareExchange(ref int, int, int)"/>
/// on the mapped word and fetch-and-add one <see cref="Interlocked.Add(ref long, long)"/>, as RDMA's atomics are;
/// a flag write is one release store. They do not take the seqlock, so a read's flag is the flag at one instant
/// within the read. Every change also adds one to the slot's sequence (interlocked, so no fetch-and-add is lost).
/// </para>
/// </summary>
public sealed unsafe class SharedRegion : IRegion, IDisposable
{
    /// <summary>About 0.2 s of waits (SpinWait sleeps 1 ms from its 20th wait on): far beyond any live writer's copy.</summary>
    public const int DefaultStuckAfterWaits = 200;
    /// <summary>An extent index is 32 bits of 64-byte units.</summary>
    public const long MaxValueAreaBytes = (long)uint.MaxValue * L.ExtentUnitBytes;
    public const int MaxSlotCapacity = 1 << 28;

    private readonly RegionMapping _mapping;
    private readonly byte* _slots;
    private readonly int _slotCapacity;
    private readonly SharedExtents _values;

    private SharedRegion(RegionMapping mapping, RegionFileIdentity identity, int maxValueBytes, int slotCapacity, long valueAreaBytes, int ownerPid)
    {
        _mapping = mapping;
        Identity = identity;
        Owner = identity.Node;
        MaxValueBytes = maxValueBytes;
        OwnerPid = ownerPid;
        _slotCapacity = slotCapacity;
        _slots = mapping.Base + L.SlotsOffset;
        Name = $"the shared region of node {identity.Node}, incarnation {identity.Incarnation} ({mapping.Path})";
        _values = new SharedExtents(mapping.Base, mapping.Base + L.ValueAreaOffset(slotCapacity), valueAreaBytes, L.ClassCount(maxValueBytes), Name);
    }

    public RegionFileIdentity Identity { get; }
    public int Owner { get; }
    public int MaxValueBytes { get; }
    public int SlotCapacity => _slotCapacity;
    public int OwnerPid { get; }
    public string Path => _mapping.Path;
    public string Name { get; }

    /// <summary>How many waits on one unchanged odd seqlock make a slot stuck (<see cref="SlotWriteStuckException"/>).</summary>
    public int StuckAfterWaits { get; set; } = DefaultStuckAfterWaits;

    /// <summary>Bytes of the value area handed out so far.</summary>
    public long ValueBytesUsed => _values.BumpedBytes;

    /// <summary>Creates the file (it must not exist), sized for <paramref name="size"/>, and maps it.</summary>
    public static SharedRegion Create(string path, RegionFileIdentity identity, int maxValueBytes, SharedRegionSize size, int ownerPid)
    {
        if (maxValueBytes is < 1 or > RegionMemory.MaxSegmentBytes)
            throw new ArgumentOutOfRangeException(nameof(maxValueBytes), maxValueBytes, $"the maximum value size must be between 1 and {RegionMemory.MaxSegmentBytes} bytes");
        size.Check(maxValueBytes);
        var cluster = Encoding.UTF8.GetBytes(identity.Cluster);
        if (cluster.Length > L.MaxClusterBytes) throw new ArgumentException($"the cluster name takes {cluster.Length} bytes; at most {L.MaxClusterBytes}", nameof(identity));
        var mapping = RegionMapping.Create(path, L.FileBytes(size.SlotCapacity, size.ValueAreaBytes));
        byte* h = mapping.Base;
        Field<int>(h, L.VersionOffset) = L.Version;
        Field<int>(h, L.HeaderBytesOffset) = L.FileHeaderBytes;
        Field<int>(h, L.NodeOffset) = identity.Node;
        Field<int>(h, L.IncarnationOffset) = identity.Incarnation;
        Field<int>(h, L.OwnerPidOffset) = ownerPid;
        Field<int>(h, L.MaxValueBytesOffset) = maxValueBytes;
        Field<int>(h, L.SlotCapacityOffset) = size.SlotCapacity;
        Field<int>(h, L.ClassCountOffset) = L.ClassCount(maxValueBytes);
        Field<long>(h, L.ValueAreaOffsetOffset) = L.ValueAreaOffset(size.SlotCapacity);
        Field<long>(h, L.ValueAreaBytesOffset) = size.ValueAreaBytes;
        Field<long>(h, L.FileBytesOffset) = mapping.Bytes;
        Field<int>(h, L.ClusterOffset) = cluster.Length;
        cluster.CopyTo(new Span<byte>(h + L.ClusterOffset + sizeof(int), cluster.Length));
        // Last, with release: a process that sees the magic sees the whole header.
        Volatile.Write(ref Field<ulong>(h, L.MagicOffset), L.Magic);
        return new SharedRegion(mapping, identity, maxValueBytes, size.SlotCapacity, size.ValueAreaBytes, ownerPid);
    }

    /// <summary>Maps an existing region file and checks its header against <paramref name="expected"/>: a clear <see cref="RegionFileException"/> otherwise.</summary>
    public static SharedRegion Open(string path, RegionFileIdentity expected)
    {
        var mapping = RegionMapping.Open(path, L.FileHeaderBytes);
        try
        {
            var header = RegionFileHeader.Read(mapping.Base);
            string? problem = header.Problem(mapping.Bytes) ?? header.Mismatch(expected);
            if (problem is not null) throw new RegionFileException(path, problem);
            return new SharedRegion(mapping, expected, header.MaxValueBytes, header.SlotCapacity, header.ValueAreaBytes, header.OwnerPid);
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    public void CheckValueSize(byte[]? value)
    {
        if (value is not null && value.Length > MaxValueBytes)
            throw new ArgumentOutOfRangeException(nameof(value), value.Length,
                $"a value of {value.Length} bytes exceeds {Name}'s maximum value size of {MaxValueBytes} bytes (MaxValueBytes)");
    }

    public int Flag(int slot)
    {
        using var lease = _mapping.Enter();
        return ~Volatile.Read(ref Field<int>(HeaderOf(slot), SlotHeaderLayout.FlagOffset));
    }

    public SlotHeader Header(int slot)
    {
        using var lease = _mapping.Enter();
        byte* h = HeaderOf(slot);
        var waits = new Waits(this, slot);
        while (true)
        {
            int seq = waits.BeginRead(h);
            var header = new SlotHeader(~Volatile.Read(ref Field<int>(h, SlotHeaderLayout.FlagOffset)), ~Field<int>(h, SlotHeaderLayout.LengthOffset),
                Field<int>(h, SlotHeaderLayout.CapacityOffset), Field<long>(h, SlotHeaderLayout.OffsetOffset),
                Volatile.Read(ref Field<ulong>(h, SlotHeaderLayout.SequenceOffset)));
            if (Waits.EndRead(h, seq)) return header;
        }
    }

    public SlotSnapshot Read(int slot)
    {
        using var lease = _mapping.Enter();
        byte* h = HeaderOf(slot);
        var waits = new Waits(this, slot);
        while (true)
        {
            int seq = waits.BeginRead(h);
            int flag = ~Volatile.Read(ref Field<int>(h, SlotHeaderLayout.FlagOffset));
            int length = ~Field<int>(h, SlotHeaderLayout.LengthOffset);
            byte[]? value;
            if (length == RegionMemory.NullLength) value = null;
            else if (length == 0) value = [];
            else if (!TryExtent(h, length, out long offset))
            {
                if (Waits.EndRead(h, seq)) throw Corrupt(slot, h, length);
                continue;
            }
            else
            {
                value = GC.AllocateUninitializedArray<byte>(length);
                _values.Bytes(offset, length).CopyTo(value);
            }
            if (Waits.EndRead(h, seq)) return new SlotSnapshot(flag, value);
        }
    }

    public bool TryRead(int slot, Span<byte> destination, out int flag, out int length)
    {
        using var lease = _mapping.Enter();
        byte* h = HeaderOf(slot);
        var waits = new Waits(this, slot);
        while (true)
        {
            int seq = waits.BeginRead(h);
            flag = ~Volatile.Read(ref Field<int>(h, SlotHeaderLayout.FlagOffset));
            length = ~Field<int>(h, SlotHeaderLayout.LengthOffset);
            bool fits = length <= destination.Length;
            if (length < RegionMemory.NullLength || (fits && length > 0))
            {
                if (!TryExtent(h, length, out long offset))
                {
                    if (Waits.EndRead(h, seq)) throw Corrupt(slot, h, length);
                    continue;
                }
                _values.Bytes(offset, length).CopyTo(destination);
            }
            if (Waits.EndRead(h, seq)) return fits;
        }
    }

    public void WriteValueThenFlag(int slot, byte[]? value, int flag)
    {
        CheckValueSize(value);
        using var lease = _mapping.Enter();
        byte* h = HeaderOf(slot);
        int odd = BeginWrite(h, slot);
        try
        {
            StoreValue(h, value);
            Volatile.Write(ref Field<int>(h, SlotHeaderLayout.FlagOffset), ~flag);
        }
        finally
        {
            EndWrite(h, odd);
        }
        Changed(h);
    }

    public void WriteValue(int slot, byte[]? value)
    {
        CheckValueSize(value);
        using var lease = _mapping.Enter();
        byte* h = HeaderOf(slot);
        int odd = BeginWrite(h, slot);
        try
        {
            StoreValue(h, value);
        }
        finally
        {
            EndWrite(h, odd);
        }
        Changed(h);
    }

    public void WriteFlag(int slot, int flag)
    {
        using var lease = _mapping.Enter();
        byte* h = HeaderOf(slot);
        Volatile.Write(ref Field<int>(h, SlotHeaderLayout.FlagOffset), ~flag);
        Changed(h);
    }

    public bool CompareAndSwapFlag(int slot, int expected, int desired)
    {
        using var lease = _mapping.Enter();
        byte* h = HeaderOf(slot);
        if (Interlocked.CompareExchange(ref Field<int>(h, SlotHeaderLayout.FlagOffset), ~desired, ~expected) != ~expected) return false;
        Changed(h);
        return true;
    }

    public ulong FetchAndAdd(int slot, ulong delta)
    {
        using var lease = _mapping.Enter();
        byte* h = HeaderOf(slot);
        return unchecked((ulong)Interlocked.Add(ref Field<long>(h, SlotHeaderLayout.SequenceOffset), (long)delta) - delta);
    }

    /// <summary>Unmaps the file here (after the operations in flight); the file and other processes' mappings stay.</summary>
    public void Dispose() => _mapping.Dispose();

    /// <summary>Unmaps the file and deletes it: the owner's end of an incarnation. Other mappings live on, unseen by new openers.</summary>
    public void DisposeAndDelete()
    {
        Dispose();
        File.Delete(Path);
    }

    /// <summary>Leaves the slot mid-write, as a writer that died there would: for tests of the readers' bound.</summary>
    internal void AbandonWriteForTest(int slot)
    {
        using var lease = _mapping.Enter();
        BeginWrite(HeaderOf(slot), slot);
    }

    /// <summary>The slot's seqlock word as it is now: odd while a write is in progress.</summary>
    internal int SeqlockForTest(int slot)
    {
        using var lease = _mapping.Enter();
        return Volatile.Read(ref Field<int>(HeaderOf(slot), L.SeqlockOffset));
    }

    public override string ToString() => Name;

    /// <summary>Writes the value's bytes and length under the seqlock. A value that outgrows its extent moves to a new one first, so a full area changes nothing.</summary>
    private void StoreValue(byte* h, byte[]? value)
    {
        ref int length = ref Field<int>(h, SlotHeaderLayout.LengthOffset);
        if (value is null)
        {
            length = ~RegionMemory.NullLength;
            return;
        }
        ref int capacity = ref Field<int>(h, SlotHeaderLayout.CapacityOffset);
        ref long offset = ref Field<long>(h, SlotHeaderLayout.OffsetOffset);
        // Under the seqlock the header is stable: one outside the value area is corruption, and nothing is written through it.
        if (capacity != 0 && !_values.IsPlausible(offset, capacity))
            throw new SharedRegionCorruptException(Name, SlotOf(h), $"its header describes an extent of {capacity} bytes at offset {offset}, outside the {_values.AreaBytes}-byte value area");
        if (value.Length > capacity)
        {
            int extent = SharedExtents.ExtentBytesFor(value.Length);
            long moved = _values.Allocate(extent);
            if (capacity > 0) _values.Free(offset, capacity);
            offset = moved;
            capacity = extent;
        }
        if (value.Length > 0) value.CopyTo(_values.Bytes(offset, value.Length));
        length = ~value.Length;
    }

    /// <summary>Where a value of <paramref name="length"/> lies, if the header's extent is inside the value area and holds it; false for a torn or corrupt header.</summary>
    private bool TryExtent(byte* h, int length, out long offset)
    {
        int capacity = Field<int>(h, SlotHeaderLayout.CapacityOffset);
        offset = Field<long>(h, SlotHeaderLayout.OffsetOffset);
        return length > 0 && length <= capacity && _values.IsPlausible(offset, capacity);
    }

    private SharedRegionCorruptException Corrupt(int slot, byte* h, int length) =>
        new(Name, slot, $"its header describes a {length}-byte value in an extent of {Field<int>(h, SlotHeaderLayout.CapacityOffset)} bytes at offset {Field<long>(h, SlotHeaderLayout.OffsetOffset)}, outside the {_values.AreaBytes}-byte value area");

    private int BeginWrite(byte* h, int slot)
    {
        ref int seqlock = ref Field<int>(h, L.SeqlockOffset);
        var waits = new Waits(this, slot);
        while (true)
        {
            int seen = Volatile.Read(ref seqlock);
            if ((seen & 1) == 0)
            {
                if (Interlocked.CompareExchange(ref seqlock, seen + 1, seen) == seen) return seen + 1;
            }
            else waits.Wait(seen);
        }
    }

    private static void EndWrite(byte* h, int odd) => Volatile.Write(ref Field<int>(h, L.SeqlockOffset), odd + 1);

    private static void Changed(byte* h) => Interlocked.Increment(ref Field<long>(h, SlotHeaderLayout.SequenceOffset));

    private int SlotOf(byte* h) => (int)((h - _slots) / SlotHeaderLayout.Size);

    private byte* HeaderOf(int slot)
    {
        if ((uint)slot >= (uint)_slotCapacity)
            throw new ArgumentOutOfRangeException(nameof(slot), slot, $"{Name} has slots 0 to {_slotCapacity - 1}");
        return _slots + (long)slot * SlotHeaderLayout.Size;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ref T Field<T>(byte* bytes, long offset) where T : unmanaged => ref *(T*)(bytes + offset);

    /// <summary>A reader's or writer's waits on one slot's odd seqlock, and the bound that declares the slot stuck.</summary>
    private struct Waits(SharedRegion region, int slot)
    {
        private SpinWait _spin;
        private int _stuckAt;
        private int _count;

        /// <summary>The seqlock once it is even, waiting while it is odd.</summary>
        public int BeginRead(byte* h)
        {
            while (true)
            {
                int seq = Volatile.Read(ref Field<int>(h, L.SeqlockOffset));
                if ((seq & 1) == 0) return seq;
                Wait(seq);
            }
        }

        /// <summary>Whether the seqlock is still <paramref name="seq"/> after the reads before it: then they saw no write.</summary>
        public static bool EndRead(byte* h, int seq)
        {
            // Orders the copy's loads before this one (acquire alone orders only what follows).
            Interlocked.MemoryBarrier();
            return Volatile.Read(ref Field<int>(h, L.SeqlockOffset)) == seq;
        }

        /// <summary>One wait on an odd seqlock. A seqlock that moves is a live writer and restarts the count.</summary>
        public void Wait(int oddSeq)
        {
            if (oddSeq != _stuckAt || _count == 0)
            {
                _stuckAt = oddSeq;
                _count = 1;
            }
            else if (++_count > region.StuckAfterWaits) throw new SlotWriteStuckException(region.Name, slot, oddSeq, region.StuckAfterWaits);
            _spin.SpinOnce();
        }
    }
}
