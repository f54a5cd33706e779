using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Messages;
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
        KeyedVersions.Write(ref writer, value.Siblings);
    }

    public override void Deserialize(ref MemoryPackReader reader, scoped ref Propagation value)
    {
        StateKey key = default;
        StateKeyFormatter.Instance.Deserialize(ref reader, ref key);
        var version = CausalVersionFormatter.Required(ref reader, "Propagation.Version");
        int entries = version.Clock.Count;
        reader.ReadUnmanaged(out int head, out int lap);
        var stable = VectorClockFormatter.Required(ref reader, "Propagation.Stable", entries);
        var siblings = KeyedVersions.Read(ref reader, "Propagation.Siblings", ref entries);
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
