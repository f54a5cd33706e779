using Leasehold.Runtime.Causal;
using MemoryPack;

namespace Leasehold.Runtime.Transport.Wire;

// The ring's two payloads. A write's lap and its stable notice carry clocks of the cluster's size; each
// payload refuses clocks of two sizes (its version's, its stable vector's, its siblings').

/// <summary>A write on its lap: key, version, head, lap, the sender's stable vector, and a transaction's sibling writes (or null).</summary>
internal sealed class PropagationFormatter : MemoryPackFormatter<Propagation>
{
    public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref Propagation value)
    {
        var key = value.Key;
        StateKeyFormatter.Instance.Serialize(ref writer, ref key);
        CausalVersionFormatter.Write(ref writer, value.Version);
        writer.WriteUnmanaged(value.Head, value.Lap);
        VectorClockFormatter.Write(ref writer, value.Stable);
        if (value.Siblings is null)
        {
            writer.WriteNullCollectionHeader();
            return;
        }
        writer.WriteCollectionHeader(value.Siblings.Length);
        foreach (var (siblingKey, version) in value.Siblings)
        {
            var k = siblingKey;
            StateKeyFormatter.Instance.Serialize(ref writer, ref k);
            CausalVersionFormatter.Write(ref writer, version);
        }
    }

    public override void Deserialize(ref MemoryPackReader reader, scoped ref Propagation value)
    {
        StateKey key = default;
        StateKeyFormatter.Instance.Deserialize(ref reader, ref key);
        var version = CausalVersionFormatter.Required(ref reader, "Propagation.Version");
        int entries = version.Clock.Count;
        reader.ReadUnmanaged(out int head, out int lap);
        var stable = VectorClockFormatter.Required(ref reader, "Propagation.Stable", entries);
        (StateKey, CausalVersion)[]? siblings = null;
        if (reader.TryReadCollectionHeader(out int count))
        {
            // Each sibling takes at least a key and a version header: a forged count runs out of bytes first.
            if (count > reader.Remaining) throw new WireRefusedException(WireRefusal.Malformed($"Propagation.Siblings count {count} with {reader.Remaining} bytes left"));
            siblings = new (StateKey, CausalVersion)[count];
            for (int i = 0; i < count; i++)
            {
                StateKey siblingKey = default;
                StateKeyFormatter.Instance.Deserialize(ref reader, ref siblingKey);
                var sibling = CausalVersionFormatter.Required(ref reader, "Propagation.Siblings[]");
                if (sibling.Clock.Count != entries) throw new WireRefusedException(WireRefusal.FieldOutOfBounds("Propagation.Siblings[] clock size"));
                siblings[i] = (siblingKey, sibling);
            }
        }
        value = new Propagation(key, version, head, lap, stable, siblings);
    }
}

/// <summary>A write visible at its tail: key, clock, head, tail and the sender's stable vector.</summary>
internal sealed class StableNoticeFormatter : MemoryPackFormatter<StableNotice>
{
    public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref StableNotice value)
    {
        var key = value.Key;
        StateKeyFormatter.Instance.Serialize(ref writer, ref key);
        VectorClockFormatter.Write(ref writer, value.Clock);
        writer.WriteUnmanaged(value.Head, value.Tail);
        VectorClockFormatter.Write(ref writer, value.Stable);
    }

    public override void Deserialize(ref MemoryPackReader reader, scoped ref StableNotice value)
    {
        StateKey key = default;
        StateKeyFormatter.Instance.Deserialize(ref reader, ref key);
        var clock = VectorClockFormatter.Required(ref reader, "StableNotice.Clock");
        reader.ReadUnmanaged(out int head, out int tail);
        value = new StableNotice(key, clock, head, tail, VectorClockFormatter.Required(ref reader, "StableNotice.Stable", clock.Count));
    }
}
