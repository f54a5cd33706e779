namespace Leasehold.Cli.SharedMemory;

/// <summary>
/// Values a torn read cannot pass for whole: pattern i has a length that depends on i and every byte equal to
/// (byte)i, so a read mixing two writes has mixed bytes or a length that is not its byte's.
/// </summary>
public static class TornValuePatterns
{
    /// <summary>Pattern <paramref name="i"/>: alternately the whole maximum and about a third of it.</summary>
    public static byte[] Pattern(long i, int maxBytes)
    {
        byte b = (byte)(i % 251);
        int length = LengthOf(b, maxBytes);
        var value = new byte[length];
        Array.Fill(value, b);
        return value;
    }

    /// <summary>Whether <paramref name="value"/> is one whole pattern; null and empty are not.</summary>
    public static bool IsWhole(byte[]? value, int maxBytes)
    {
        if (value is null || value.Length == 0) return false;
        byte b = value[0];
        return value.Length == LengthOf(b, maxBytes) && !value.AsSpan().ContainsAnyExcept(b);
    }

    private static int LengthOf(byte b, int maxBytes) => b % 2 == 0 ? maxBytes : Math.Clamp(maxBytes / 3 + b, 1, maxBytes);
}
