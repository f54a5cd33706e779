using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Messages;
using MemoryPack;

namespace Leasehold.Runtime.Transport.Wire;

// Formatters for the value types that name keys. They hold strings, so the serializer cannot copy them as
// raw memory; each writes its fields in declaration order and refuses a null where the type has none.

internal sealed class StateKeyFormatter : MemoryPackFormatter<StateKey>
{
    public static readonly StateKeyFormatter Instance = new();

    public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref StateKey value)
    {
        writer.WriteString(value.Table);
        writer.WriteString(value.Key);
    }

    public override void Deserialize(ref MemoryPackReader reader, scoped ref StateKey value) =>
        value = new StateKey(
            reader.ReadString() ?? throw WireRefusedException.Null("StateKey.Table"),
            reader.ReadString() ?? throw WireRefusedException.Null("StateKey.Key"));
}

internal sealed class LeaseEntryFormatter : MemoryPackFormatter<LeaseEntry>
{
    public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref LeaseEntry value)
    {
        writer.WriteUnmanaged(value.KeyId);
        var key = value.Key;
        StateKeyFormatter.Instance.Serialize(ref writer, ref key);
        writer.WriteUnmanaged(value.Holder, value.PreviousHolder);
        StrictBool.Write(ref writer, value.Written);
    }

    public override void Deserialize(ref MemoryPackReader reader, scoped ref LeaseEntry value)
    {
        int keyId = reader.ReadUnmanaged<int>();
        StateKey key = default;
        StateKeyFormatter.Instance.Deserialize(ref reader, ref key);
        reader.ReadUnmanaged(out int holder, out int previousHolder);
        value = new LeaseEntry(keyId, key, holder, previousHolder, StrictBool.Read(ref reader, "LeaseEntry.Written"));
    }
}

internal sealed class ResolvedAccessFormatter : MemoryPackFormatter<ResolvedAccess>
{
    public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref ResolvedAccess value)
    {
        writer.WriteUnmanaged(value.KeyId);
        var key = value.Key;
        StateKeyFormatter.Instance.Serialize(ref writer, ref key);
        writer.WriteUnmanaged((byte)value.Mode);
    }

    public override void Deserialize(ref MemoryPackReader reader, scoped ref ResolvedAccess value)
    {
        int keyId = reader.ReadUnmanaged<int>();
        StateKey key = default;
        StateKeyFormatter.Instance.Deserialize(ref reader, ref key);
        byte mode = reader.ReadUnmanaged<byte>();
        if (mode > (byte)AccessMode.ReadWrite) throw new WireRefusedException(WireRefusal.FieldOutOfBounds("ResolvedAccess.Mode"));
        value = new ResolvedAccess(keyId, key, (AccessMode)mode);
    }
}

internal sealed class VirtualVertexFormatter : MemoryPackFormatter<VirtualVertex>
{
    public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref VirtualVertex value)
    {
        writer.WriteUnmanaged(value.KeyId);
        var key = value.Key;
        StateKeyFormatter.Instance.Serialize(ref writer, ref key);
        writer.WriteUnmanaged(value.Ts, value.Position, value.AccessIndex);
    }

    public override void Deserialize(ref MemoryPackReader reader, scoped ref VirtualVertex value)
    {
        int keyId = reader.ReadUnmanaged<int>();
        StateKey key = default;
        StateKeyFormatter.Instance.Deserialize(ref reader, ref key);
        reader.ReadUnmanaged(out long ts, out int position, out int accessIndex);
        value = new VirtualVertex(keyId, key, ts, position, accessIndex);
    }
}
