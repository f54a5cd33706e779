using System.Buffers.Binary;

namespace Leasehold.Runtime.Transport.Wire;

/// <summary>
/// The fixed 24-byte header in front of every frame, little-endian: magic u16, protocol version u8, kind u8,
/// body length u32, sender <see cref="NodeId.Packed"/> u32, sender incarnation u32, link sequence u64.
/// Written by hand rather than by the serializer, so a receiver can refuse a frame (wrong magic, version,
/// kind or length) before any body byte is interpreted.
/// </summary>
public readonly record struct WireHeader(byte Kind, uint BodyLength, uint Sender, uint Incarnation, ulong LinkSequence)
{
    public const int Size = 24;
    public const ushort Magic = 0x4C48; // "LH"
    /// <summary>The one body layout this build speaks; a frame of any other version is refused, never guessed at.</summary>
    public const byte ProtocolVersion = 1;

    private const int MagicAt = 0, VersionAt = 2, KindAt = 3, LengthAt = 4, SenderAt = 8, IncarnationAt = 12, SequenceAt = 16;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination[MagicAt..], Magic);
        destination[VersionAt] = ProtocolVersion;
        destination[KindAt] = Kind;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[LengthAt..], BodyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[SenderAt..], Sender);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[IncarnationAt..], Incarnation);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[SequenceAt..], LinkSequence);
    }

    /// <summary>The magic and version of a frame at least <see cref="Size"/> bytes long, read before anything else is trusted.</summary>
    public static (ushort Magic, byte Version) ReadPreamble(ReadOnlySpan<byte> frame) =>
        (BinaryPrimitives.ReadUInt16LittleEndian(frame[MagicAt..]), frame[VersionAt]);

    public static WireHeader Read(ReadOnlySpan<byte> frame) => new(
        frame[KindAt],
        BinaryPrimitives.ReadUInt32LittleEndian(frame[LengthAt..]),
        BinaryPrimitives.ReadUInt32LittleEndian(frame[SenderAt..]),
        BinaryPrimitives.ReadUInt32LittleEndian(frame[IncarnationAt..]),
        BinaryPrimitives.ReadUInt64LittleEndian(frame[SequenceAt..]));
}
