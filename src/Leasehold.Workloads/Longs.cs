using System.Buffers.Binary;

namespace Leasehold.Workloads;

/// <summary>
/// A fixed-length array of longs as one value (8 little-endian bytes each), for outputs that carry a
/// whole snapshot (a full read of the bank or the ring) along an edge and back to the caller.
/// </summary>
public static class Longs
{
    public static byte[] Encode(ReadOnlySpan<long> values)
    {
        var bytes = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), values[i]);
        return bytes;
    }

    /// <summary>The longs in <paramref name="value"/>, or null when it is absent or not a whole number of longs.</summary>
    public static long[]? Decode(byte[]? value)
    {
        if (value is null || value.Length % 8 != 0) return null;
        var values = new long[value.Length / 8];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt64LittleEndian(value.AsSpan(i * 8));
        return values;
    }
}
