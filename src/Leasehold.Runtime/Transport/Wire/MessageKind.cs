using System.Buffers;
using System.Reflection;
using MemoryPack;

namespace Leasehold.Runtime.Transport.Wire;

/// <summary>One row of the message table: a message type, its kind byte, its body codec and its bounds check.</summary>
internal abstract class MessageKind(byte kind, Type type)
{
    public byte Kind { get; } = kind;
    public Type Type { get; } = type;

    public abstract void WriteBody(Message message, IBufferWriter<byte> body);

    /// <summary>Decodes a body; throws the serializer's exceptions or <see cref="WireRefusedException"/> (caught by the codec).</summary>
    public abstract Message ReadBody(ReadOnlySpan<byte> body);

    /// <summary>The limits a decoded message must keep, checked after decoding; null when it keeps them.</summary>
    public abstract WireRefusal? Check(Message message, WireLimits limits);

    public override string ToString() => $"{Kind}:{Type.Name}";

    // UTF-16 strings: UTF-8 would turn a lone surrogate (legal in a .NET string, so in a key or a parameter)
    // into U+FFFD, and the receiver would see a different key than the sender sent.
    private static readonly MemoryPackSerializerOptions Options = MemoryPackSerializerOptions.Utf16;

    public static MessageKind Of<T>(byte kind, Func<T, WireLimits, WireRefusal?> check) where T : Message, IMemoryPackable<T> =>
        new Typed<T>(kind, check);

    private sealed class Typed<T>(byte kind, Func<T, WireLimits, WireRefusal?> check) : MessageKind(kind, typeof(T))
        where T : Message, IMemoryPackable<T>
    {
        // The first body byte is the record's member count. The serializer would accept fewer members
        // (filling the rest with defaults, for version tolerance); the frame's version already fixes the
        // layout, so a shorter record is a truncated one.
        private readonly byte _members = checked((byte)typeof(T)
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Count(p => !p.IsDefined(typeof(MemoryPackIgnoreAttribute), inherit: true)));

        public override void WriteBody(Message message, IBufferWriter<byte> body) => MemoryPackSerializer.Serialize(body, (T)message, Options);

        public override Message ReadBody(ReadOnlySpan<byte> body)
        {
            if (body.IsEmpty || body[0] != _members)
                throw new WireRefusedException(WireRefusal.Malformed($"{typeof(T).Name} has {_members} members; the body starts with {(body.IsEmpty ? "nothing" : body[0].ToString())}"));
            T? message = null;
            int read = MemoryPackSerializer.Deserialize(body, ref message, Options);
            if (read != body.Length) throw new WireRefusedException(WireRefusal.Malformed($"{body.Length - read} bytes after the {typeof(T).Name} body"));
            return message ?? throw new WireRefusedException(WireRefusal.Malformed($"a null {typeof(T).Name}"));
        }

        public override WireRefusal? Check(Message message, WireLimits limits) => check((T)message, limits);
    }
}
