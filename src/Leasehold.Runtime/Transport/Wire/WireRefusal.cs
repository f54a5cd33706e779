namespace Leasehold.Runtime.Transport.Wire;

/// <summary>Why a frame was refused. Each names a different way input can be wrong, so a test can pin each one.</summary>
public enum WireRefusalKind : byte
{
    /// <summary>Fewer bytes than the fixed header.</summary>
    TooShort = 1,
    /// <summary>The first two bytes are not the protocol's magic: not a Leasehold frame at all.</summary>
    BadMagic,
    /// <summary>A protocol version this build does not speak.</summary>
    UnknownVersion,
    /// <summary>A kind byte the message table does not list.</summary>
    UnknownKind,
    /// <summary>The header's body length is not the number of bytes that follow it.</summary>
    LengthMismatch,
    /// <summary>The frame is larger than <see cref="WireLimits.MaxFrameBytes"/>.</summary>
    Oversized,
    /// <summary>A field decoded, but its value is outside what the protocol or the limits allow (the detail names it).</summary>
    FieldOutOfBounds,
    /// <summary>The body does not decode as its kind's layout (the detail says what broke).</summary>
    Malformed,
}

/// <summary>A refused frame: the kind of fault, and the field or the detail that names it.</summary>
public readonly record struct WireRefusal(WireRefusalKind Kind, string Detail)
{
    public static WireRefusal FieldOutOfBounds(string field) => new(WireRefusalKind.FieldOutOfBounds, field);
    public static WireRefusal Malformed(string detail) => new(WireRefusalKind.Malformed, detail);

    public override string ToString() => $"{Kind}: {Detail}";
}

/// <summary>
/// Thrown by the body's formatters when a decoded value is not acceptable; caught, with the serializer's own
/// exceptions, at the one decoding point in <see cref="WireCodec.TryDecode"/> and turned into its refusal.
/// </summary>
internal sealed class WireRefusedException(WireRefusal refusal) : Exception(refusal.ToString())
{
    public WireRefusal Refusal { get; } = refusal;

    public static WireRefusedException Null(string field) => new(WireRefusal.Malformed($"{field} is null"));
}
