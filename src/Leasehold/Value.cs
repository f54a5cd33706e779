using System.Buffers.Binary;
using System.Text;

namespace Leasehold;

/// <summary>Encodings for state values, which are variable-size byte arrays. Absent state is null.</summary>
public static class Value
{
    public static byte[] FromLong(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }

    /// <summary>Reads a long; an absent value reads as <paramref name="absent"/>.</summary>
    public static long ToLong(byte[]? value, long absent = 0)
    {
        if (value is null) return absent;
        if (value.Length != 8) throw new FormatException($"a long value has 8 bytes, this one has {value.Length}");
        return BinaryPrimitives.ReadInt64LittleEndian(value);
    }

    public static byte[] FromString(string value) => Encoding.UTF8.GetBytes(value);

    public static string? ToText(byte[]? value) => value is null ? null : Encoding.UTF8.GetString(value);

    public static bool SameBytes(byte[]? a, byte[]? b) =>
        a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}
