using System.Buffers.Binary;

namespace Leasehold.Workloads.ListAppend;

/// <summary>A list of longs as a state value: 8 little-endian bytes each; absent is empty.</summary>
public static class ListValue
{
    public static long[] Decode(byte[]? value)
    {
        if (value is null) return [];
        if (value.Length % 8 != 0) throw new FormatException($"a list value has a multiple of 8 bytes, this one has {value.Length}");
        var list = new long[value.Length / 8];
        for (int i = 0; i < list.Length; i++) list[i] = BinaryPrimitives.ReadInt64LittleEndian(value.AsSpan(i * 8));
        return list;
    }

    public static byte[] Append(byte[]? value, long element)
    {
        int length = value?.Length ?? 0;
        var next = new byte[length + 8];
        value?.CopyTo(next, 0);
        BinaryPrimitives.WriteInt64LittleEndian(next.AsSpan(length), element);
        return next;
    }
}
