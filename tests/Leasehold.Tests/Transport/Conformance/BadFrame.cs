using System.Buffers;
using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Tests.Transport.Conformance;

/// <summary>Frames a hostile (but authenticated) peer might write, by name.</summary>
internal static class BadFrame
{
    private const byte PeerExecutedKind = 21;

    /// <param name="plays">A node the intruder's process hosts.</param>
    /// <param name="target">A node of the process it writes to.</param>
    public static byte[] Of(string name, NodeId plays, NodeId target) => name switch
    {
        // Announces 100 MiB (over the 64 MiB frame bound): refused on the header, before any body is awaited.
        "oversized" => Header(WireHeader.Magic, PeerExecutedKind, bodyLength: 100 << 20, plays, (uint)target.Packed),
        "bad-magic" => Header(0x0000, PeerExecutedKind, 0, plays, (uint)target.Packed),
        "unknown-kind" => Header(WireHeader.Magic, 250, 0, plays, (uint)target.Packed),
        "garbage-body" => [.. Header(WireHeader.Magic, PeerExecutedKind, 5, plays, (uint)target.Packed), 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
        // Well formed, but from a node the intruder's process does not host (the target's own).
        "impersonation" => Valid(from: target, to: target),
        // Well formed, but for a node the target does not host (the intruder's own).
        "misrouted" => Valid(from: plays, to: plays),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such bad frame"),
    };

    private static byte[] Header(ushort magic, byte kind, uint bodyLength, NodeId from, ulong sequence)
    {
        var bytes = new byte[WireHeader.Size];
        new WireHeader(kind, bodyLength, (uint)from.Packed, 1, sequence).Write(bytes);
        if (magic != WireHeader.Magic) bytes[0] = bytes[1] = (byte)magic;
        return bytes;
    }

    private static byte[] Valid(NodeId from, NodeId to)
    {
        var message = new PeerExecutedMsg(1);
        message.Stamp(from, new Incarnation(1));
        var writer = new ArrayBufferWriter<byte>();
        WireCodec.Encode(message, writer, (uint)to.Packed);
        return writer.WrittenSpan.ToArray();
    }
}
