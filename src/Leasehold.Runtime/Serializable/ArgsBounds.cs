using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Runtime.Serializable;

/// <summary>
/// The bounds a request's parameters must keep to travel in a plan from the driver to a worker. Checked at
/// submission, so a request the wire could not carry is refused with the cause named, on every transport
/// alike, instead of being admitted and then undeliverable.
/// </summary>
internal static class ArgsBounds
{
    /// <summary>Why <paramref name="args"/> cannot be sent, or null when they can.</summary>
    public static string? Refusal(Args args, WireLimits limits)
    {
        if (args.Count > limits.MaxArgs) return $"a request has {args.Count} parameters; at most {limits.MaxArgs} are allowed";
        if (EncodedBytes(args) is var total && total > limits.MaxParameterBytes)
            return $"a request's parameters take up to {total} bytes on the wire; at most {limits.MaxParameterBytes} fit in a plan";
        for (int i = 0; i < args.Count; i++)
        {
            string name = args.NameAt(i);
            if (name.Length > limits.MaxStringChars)
                return $"a parameter name has {name.Length} characters; at most {limits.MaxStringChars} are allowed";
            switch (args.StoredValueAt(i))
            {
                case string s when s.Length > limits.MaxStringChars:
                    return $"parameter '{name}' has {s.Length} characters; at most {limits.MaxStringChars} are allowed";
                case byte[] b when b.Length > limits.MaxValueBytes:
                    return $"parameter '{name}' has {b.Length} bytes; the configured maximum value size is {limits.MaxValueBytes} bytes (MaxValueBytes)";
            }
        }
        return null;
    }

    /// <summary>
    /// At most how many bytes <paramref name="args"/> take in a plan: names and strings counted at the worst
    /// case of UTF-8 (3 bytes per UTF-16 char), each with its length and type tag.
    /// </summary>
    public static long EncodedBytes(Args args)
    {
        long bytes = sizeof(int);
        for (int i = 0; i < args.Count; i++)
        {
            bytes += 2 * sizeof(int) + 1 + 3L * args.NameAt(i).Length;
            bytes += args.StoredValueAt(i) switch
            {
                string s => sizeof(int) + 3L * s.Length,
                byte[] b => sizeof(int) + b.Length,
                _ => sizeof(long),
            };
        }
        return bytes;
    }
}
