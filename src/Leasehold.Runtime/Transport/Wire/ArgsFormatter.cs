using MemoryPack;

namespace Leasehold.Runtime.Transport.Wire;

/// <summary>
/// A request's parameters: a count (i32), then per parameter its name, a type tag (1 long, 2 string,
/// 3 bytes) and the value; the same tags as the batch log (<c>BatchInputCodec</c>). Decoding rebuilds
/// the map through <see cref="Args.ArgsBuilder"/>, so an empty or repeated name is refused as the API refuses it.
/// </summary>
internal sealed class ArgsFormatter : MemoryPackFormatter<Args>
{
    private const byte LongArg = 1, StringArg = 2, BytesArg = 3;
    // A name (4-byte length at least), a tag and the shortest value (an empty string or array: 4 bytes).
    private const int MinEncodedArg = 9;

    public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref Args? value)
    {
        if (value is null) throw new InvalidOperationException("a message's Args is null: send Args.Empty");
        writer.WriteUnmanaged(value.Count);
        for (int i = 0; i < value.Count; i++)
        {
            writer.WriteString(value.NameAt(i));
            switch (value.StoredValueAt(i))
            {
                case long l: writer.WriteUnmanaged(LongArg, l); break;
                case string s: writer.WriteUnmanaged(StringArg); writer.WriteString(s); break;
                case byte[] b: writer.WriteUnmanaged(BytesArg); writer.WriteUnmanagedArray(b); break;
                case var other: throw new InvalidOperationException($"parameter '{value.NameAt(i)}' is a {other.GetType().Name}, which the wire cannot carry");
            }
        }
    }

    public override void Deserialize(ref MemoryPackReader reader, scoped ref Args? value)
    {
        int count = reader.ReadUnmanaged<int>();
        if (count < 0 || count > reader.Remaining / MinEncodedArg) throw new WireRefusedException(WireRefusal.Malformed($"Args count {count} with {reader.Remaining} bytes left"));
        // Refused before reading: the builder checks each name against the earlier ones (quadratic), and a
        // frame of many small parameters would pay that, and allocate every name, before any later check.
        if (count > WireCodec.DecodingLimits.MaxArgs) throw new WireRefusedException(WireRefusal.FieldOutOfBounds("Args.Count"));
        if (count == 0)
        {
            value = Args.Empty;
            return;
        }
        var args = Args.Create();
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString() ?? throw WireRefusedException.Null("Args name");
            switch (reader.ReadUnmanaged<byte>())
            {
                case LongArg: args.Set(name, reader.ReadUnmanaged<long>()); break;
                case StringArg: args.Set(name, reader.ReadString() ?? throw WireRefusedException.Null($"Args '{name}'")); break;
                case BytesArg: args.Set(name, reader.ReadUnmanagedArray<byte>() ?? throw WireRefusedException.Null($"Args '{name}'")); break;
                case var tag: throw new WireRefusedException(WireRefusal.Malformed($"parameter '{name}' has unknown type tag {tag}"));
            }
        }
        value = args.Build();
    }
}
