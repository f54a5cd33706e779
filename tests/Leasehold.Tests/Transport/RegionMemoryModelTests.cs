using CsCheck;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Tests.Transport;

/// <summary>
/// The region against the simplest model of what it stores, a dictionary of (flag, value) per slot, over
/// random sequences of every operation. Small segments and a small maximum make values move, spill into new
/// segments and reuse freed extents within one sequence.
/// </summary>
public class RegionMemoryModelTests
{
    private enum Kind { WriteValueThenFlag, WriteValue, WriteFlag, CompareAndSwapFlag, FetchAndAdd, Read }

    private sealed record Op(Kind Kind, int Slot, byte[]? Value, int Flag, int Expected)
    {
        public override string ToString() => $"{Kind}(slot {Slot}, value {(Value is null ? "null" : $"{Value.Length} B")}, flag {Flag}, expected {Expected})";
    }

    // Slots on both sides of a chunk boundary and one far away.
    private static readonly Gen<int> Slots = Gen.OneOf(0, 1, 2, 4095, 4096, 50_000);
    private static readonly Gen<int> Flags = Gen.Int[-1, 3];
    private static readonly Gen<byte[]?> Values = Gen.Frequency(
        (1, Gen.Const((byte[]?)null)),
        (1, Gen.Const((byte[]?)Array.Empty<byte>())),
        (4, Gen.Byte.Array[1, 64].Select(v => (byte[]?)v)),
        (3, Gen.Byte.Array[65, 2048].Select(v => (byte[]?)v)));

    private static readonly Gen<Op> Ops =
        Gen.Select(Gen.Enum<Kind>(), Slots, Values, Flags, Flags, (kind, slot, value, flag, expected) => new Op(kind, slot, value, flag, expected));

    [Fact]
    public void The_region_behaves_as_a_dictionary_of_flag_and_value_per_slot()
    {
        Ops.Array[1, 200].Sample(ops =>
        {
            var region = new RegionMemory(owner: 0, maxValueBytes: 2048, segmentBytes: 4096);
            var model = new Dictionary<int, (int Flag, byte[]? Value, ulong Sequence)>();
            (int Flag, byte[]? Value, ulong Sequence) Get(int slot) => model.TryGetValue(slot, out var s) ? s : (RegionMemory.NoOwner, null, 0UL);

            foreach (var op in ops)
            {
                var was = Get(op.Slot);
                var value = op.Value?.ToArray(); // the region's copy of it is checked against op.Value after this one is scribbled on
                switch (op.Kind)
                {
                    case Kind.WriteValueThenFlag:
                        region.WriteValueThenFlag(op.Slot, value, op.Flag);
                        model[op.Slot] = (op.Flag, op.Value, was.Sequence + 1);
                        break;
                    case Kind.WriteValue:
                        region.WriteValue(op.Slot, value);
                        model[op.Slot] = (was.Flag, op.Value, was.Sequence + 1);
                        break;
                    case Kind.WriteFlag:
                        region.WriteFlag(op.Slot, op.Flag);
                        model[op.Slot] = (op.Flag, was.Value, was.Sequence + 1);
                        break;
                    case Kind.CompareAndSwapFlag:
                        bool swapped = region.CompareAndSwapFlag(op.Slot, op.Expected, op.Flag);
                        Assert.Equal(was.Flag == op.Expected, swapped);
                        if (swapped) model[op.Slot] = (op.Flag, was.Value, was.Sequence + 1);
                        break;
                    case Kind.FetchAndAdd:
                        Assert.Equal(was.Sequence, region.FetchAndAdd(op.Slot, (ulong)(op.Flag + 1)));
                        model[op.Slot] = was with { Sequence = was.Sequence + (ulong)(op.Flag + 1) };
                        break;
                    case Kind.Read:
                        break;
                }
                // The writer's array is the writer's: scribbling on it after the call must not reach the region.
                if (value is { Length: > 0 }) value[0] ^= 0xFF;
                AssertSlot(region, op.Slot, Get(op.Slot));
            }
            foreach (var (slot, expected) in model) AssertSlot(region, slot, expected);
        }, iter: 400, threads: 1, print: ops => string.Join("\n", ops.Select(o => o.ToString())));
    }

    private static void AssertSlot(RegionMemory region, int slot, (int Flag, byte[]? Value, ulong Sequence) expected)
    {
        var read = region.Read(slot);
        Assert.Equal(expected.Flag, read.Flag);
        Assert.Equal(expected.Flag, region.Flag(slot));
        Assert.Equal(expected.Value, read.Value);
        Assert.Equal(expected.Value is null, read.Value is null);
        Assert.Equal(expected.Sequence, region.Header(slot).Sequence);
    }
}
