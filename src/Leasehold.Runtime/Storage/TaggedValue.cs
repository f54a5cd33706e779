namespace Leasehold.Runtime.Storage;

/// <summary>
/// How the durable engines store one version: a tag byte (1 = a value, 0 = a delete), then the bytes.
/// A delete must be a version of its own (it hides older ones once committed), and an empty value is
/// not a delete, so neither null nor an empty array can stand for it.
/// </summary>
public static class TaggedValue
{
    public static byte[] Encode(byte[]? value)
    {
        if (value is null) return [0];
        var bytes = new byte[value.Length + 1];
        bytes[0] = 1;
        value.CopyTo(bytes, 1);
        return bytes;
    }

    /// <summary>The value, or null for a delete.</summary>
    public static byte[]? Decode(ReadOnlySpan<byte> stored) => stored.IsEmpty || stored[0] == 0 ? null : stored[1..].ToArray();
}
