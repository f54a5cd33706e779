using System.Buffers.Binary;

namespace Leasehold.Workloads.ListAppend;

/// <summary>A list of longs as a state value: 8 little-endian bytes each; absent is empty.</summary>
public static class ListValue
{
    public static long[] Decode(byte[]? value) =>
        value is null ? [] : Longs.Decode(value) ?? throw new FormatException($"a list value has a multiple of 8 bytes, this one has {value.Length}");

    public static byte[] Append(byte[]? value, long element)
    {
        int length = value?.Length ?? 0;
        var next = new byte[length + 8];
        value?.CopyTo(next, 0);
        BinaryPrimitives.WriteInt64LittleEndian(next.AsSpan(length), element);
        return next;
    }
}
