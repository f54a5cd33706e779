using System.Buffers.Binary;
using CsCheck;
using Xunit.Abstractions;
using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Wire;
using static Leasehold.Tests.Transport.WireCodecRoundTripTests;

namespace Leasehold.Tests.Transport;

/// <summary>
/// Damaged and random input never makes the decoder throw, and never makes it allocate in proportion to a
/// length it read: every input's allocation stays within a fixed multiple of the input's own size.
/// </summary>
public class WireCodecFuzzTests(ITestOutputHelper output)
{
    private const int MutationsPerMessage = 50;
    private const int Messages = 2100;
    // A refusal allocates its detail string and, when the serializer threw, the exception; a decode allocates
    // the message graph, a small multiple of the frame. Neither depends on a length the input declares.
    private const long FixedAllowanceBytes = 32 << 10;
    private const long AllowancePerInputByte = 32;

    private static readonly int[] ForgedLengths = [int.MinValue, int.MinValue + 1, int.MinValue + 3, -2, -1, 0, 1, 0x7FFF_FFF0, int.MaxValue, 1 << 20, 1 << 30];

    [Fact]
    public void Mutated_frames_and_random_bytes_are_refused_or_decoded_never_thrown_with_bounded_allocation()
    {
        WarmUp();
        long inputs = 0, decoded = 0, mostAllocated = 0;
        var refusals = new SortedDictionary<WireRefusalKind, int>();
        var kindsMutated = new HashSet<Type>();
        Gen.Select(WireMessageGenerators.Stamped, Gen.Int[0, int.MaxValue]).Sample((message, seed) =>
        {
            kindsMutated.Add(message.GetType());
            var valid = Frame(message);
            var random = new Random(seed);
            for (int i = 0; i < MutationsPerMessage; i++)
            {
                var input = Mutate(valid, random);
                long before = GC.GetAllocatedBytesForCurrentThread();
                bool ok = WireCodec.TryDecode(input, WireLimits.Default, out _, out var refusal);
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(allocated <= FixedAllowanceBytes + AllowancePerInputByte * input.Length,
                    $"{allocated} bytes allocated decoding {input.Length} bytes ({(ok ? "decoded" : refusal.ToString())}), mutation {i} of seed {seed}");
                inputs++;
                mostAllocated = Math.Max(mostAllocated, allocated);
                if (ok) decoded++;
                else refusals[refusal.Kind] = refusals.GetValueOrDefault(refusal.Kind) + 1;
            }
        }, iter: Messages, threads: 1);

        output.WriteLine($"{inputs} inputs, {decoded} decoded, at most {mostAllocated} bytes allocated for one; refused: {string.Join(", ", refusals.Select(r => $"{r.Key} {r.Value}"))}");
        Assert.True(inputs >= 100_000, $"only {inputs} inputs");
        // The mutations must reach past the header into the bodies, or the test proves little.
        Assert.Contains(WireRefusalKind.Malformed, refusals.Keys);
        Assert.Contains(WireRefusalKind.FieldOutOfBounds, refusals.Keys);
        Assert.Contains(WireRefusalKind.LengthMismatch, refusals.Keys);
        Assert.True(decoded > 0, "no mutated frame decoded: the mutations never left a frame valid");
        var unmutated = MessageKinds.All.Select(k => k.Type).Except(kindsMutated).Select(t => t.Name).ToList();
        Assert.True(unmutated.Count == 0, $"no frame of these kinds was mutated: {string.Join(", ", unmutated)}");
    }

    private static byte[] Mutate(byte[] valid, Random random)
    {
        switch (random.Next(8))
        {
            case 0: // bit flips anywhere
            {
                var bytes = (byte[])valid.Clone();
                for (int n = random.Next(1, 4); n > 0; n--) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return bytes;
            }
            case 1: // truncation
                return valid[..random.Next(valid.Length)];
            case 2: // extension
            {
                var bytes = new byte[valid.Length + random.Next(1, 16)];
                valid.CopyTo(bytes, 0);
                random.NextBytes(bytes.AsSpan(valid.Length));
                return bytes;
            }
            case 3: // a forged body length in the header
            {
                var bytes = (byte[])valid.Clone();
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), ForgedLengths[random.Next(ForgedLengths.Length)]);
                return bytes;
            }
            case 4: // a forged length (or any 4 bytes) inside the body
            {
                var bytes = (byte[])valid.Clone();
                if (bytes.Length < WireHeader.Size + 4) return bytes;
                int at = random.Next(WireHeader.Size, bytes.Length - 3);
                int forged = random.Next(3) == 0 ? random.Next(int.MinValue, int.MaxValue) : ForgedLengths[random.Next(ForgedLengths.Length)];
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), forged);
                return bytes;
            }
            case 5: // a valid header in front of a random body of the length it declares
            {
                var bytes = new byte[WireHeader.Size + random.Next(1, 64)];
                valid.AsSpan(0, WireHeader.Size).CopyTo(bytes);
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)(bytes.Length - WireHeader.Size));
                random.NextBytes(bytes.AsSpan(WireHeader.Size));
                bytes[WireHeader.Size] = (byte)random.Next(8); // a plausible member count, so the body is read
                return bytes;
            }
            case 6: // random bytes
            {
                var bytes = new byte[random.Next(0, 64)];
                random.NextBytes(bytes);
                return bytes;
            }
            default: // random bytes overwritten in the body, the header left valid
            {
                var bytes = (byte[])valid.Clone();
                if (bytes.Length == WireHeader.Size) return bytes;
                for (int n = random.Next(1, 4); n > 0; n--) bytes[random.Next(WireHeader.Size, bytes.Length)] = (byte)random.Next(256);
                return bytes;
            }
        }
    }

    /// <summary>First decodes load types and build the serializer's formatters: allocation counted once per process, not per input.</summary>
    private static void WarmUp()
    {
        foreach (var gen in WireMessageGenerators.ByType.Values)
        {
            var frame = Frame(gen.Single());
            WireCodec.TryDecode(frame, WireLimits.Default, out _, out _);
            frame[^1] ^= 0xFF;
            WireCodec.TryDecode(frame, WireLimits.Default, out _, out _);
            WireCodec.TryDecode(frame[..^1], WireLimits.Default, out _, out _);
        }
    }

    [Fact]
    public void A_forged_collection_length_is_refused_without_allocating_for_it()
    {
        var records = new RecordsMsg(1, [new VirtualVertex(1, new("t", "k"), 5, 0, 0)]);
        records.Stamp(NodeId.Worker(0), new Incarnation(1));
        WarmUp();
        foreach (int forged in new[] { int.MaxValue, 1 << 30, int.MinValue, -2 })
        {
            var frame = Frame(records);
            // Body: member count (1 byte), Batch (8 bytes), then the vertices' count.
            BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(WireHeader.Size + 1 + 8), forged);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.False(WireCodec.TryDecode(frame, WireLimits.Default, out _, out var refusal));
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(WireRefusalKind.Malformed, refusal.Kind);
            Assert.True(allocated < FixedAllowanceBytes, $"a forged count of {forged} allocated {allocated} bytes");
        }
    }

    [Fact]
    public void Parameters_beyond_the_limit_are_refused_before_any_is_read()
    {
        // Rebuilding a parameter map checks each name against the earlier ones, so a frame of many small
        // parameters would cost time quadratic in its size, and allocate for every name, before a check
        // after decoding could refuse it.
        var args = Args.Create();
        for (int i = 0; i < 5000; i++) args.Set($"p{i}", i);
        var plan = new PlanMsg(1, 1, default, [new PlannedWorkflow(1, "w", args.Build(), [])], []);
        var frame = Frame(plan);
        WarmUp();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.False(WireCodec.TryDecode(frame, WireLimits.Default with { MaxArgs = 4999 }, out _, out var refusal));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(WireRefusal.FieldOutOfBounds("Args.Count"), refusal);
        Assert.True(allocated < 16 << 10, $"refusing 5000 parameters allocated {allocated} bytes");
    }
}
