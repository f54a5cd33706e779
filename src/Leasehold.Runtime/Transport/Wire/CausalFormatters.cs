using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Messages;
using MemoryPack;

namespace Leasehold.Runtime.Transport.Wire;

// Formatters for the causal runtime's values. None of them is a plain record the serializer could generate:
// a vector clock hides its entries, a version's dependencies are a map, and every clock must be checked.
// Each writes its fields in a fixed order. A dictionary goes in the sender's enumeration order and is rebuilt
// in it, so the receiver iterates it as the sender did (the deterministic mode replays over both transports).
// What one value can check on its own is checked here, while decoding: clock sizes within the servers limit,
// entries not negative, one clock size within a version or a session, no key twice. Whether a message's
// clocks all have the cluster's size is the receiver's to know.

/// <summary>A vector clock: its entry count (a collection header; null as the serializer writes it), then the entries.</summary>
internal sealed class VectorClockFormatter : MemoryPackFormatter<VectorClock>
{
    public static readonly VectorClockFormatter Instance = new();

    public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref VectorClock? value)
    {
        if (value is null)
        {
            writer.WriteNullCollectionHeader();
            return;
        }
        writer.WriteCollectionHeader(value.Count);
        foreach (long entry in value.Entries) writer.WriteUnmanaged(entry);
    }

    public override void Deserialize(ref MemoryPackReader reader, scoped ref VectorClock? value)
    {
        if (!reader.TryReadCollectionHeader(out int count))
        {
            value = null;
            return;
        }
        if (count < 1 || count > WireCodec.DecodingLimits.MaxServers) throw new WireRefusedException(WireRefusal.FieldOutOfBounds($"VectorClock of {count} entries"));
        var entries = new long[count];
        for (int i = 0; i < count; i++)
            if ((entries[i] = reader.ReadUnmanaged<long>()) < 0) throw new WireRefusedException(WireRefusal.FieldOutOfBounds("VectorClock entry"));
        value = VectorClock.Of(entries);
    }

    /// <summary>A clock that must be there, with <paramref name="entries"/> entries (−1: any count).</summary>
    public static VectorClock Required(ref MemoryPackReader reader, string field, int entries = -1) =>
        Optional(ref reader, field, entries) ?? throw WireRefusedException.Null(field);

    /// <summary>A clock that may be null; present, it has <paramref name="entries"/> entries (−1: any count).</summary>
    public static VectorClock? Optional(ref MemoryPackReader reader, string field, int entries = -1)
    {
        VectorClock? clock = null;
        Instance.Deserialize(ref reader, ref clock);
        if (clock is not null && entries >= 0 && clock.Count != entries)
            throw new WireRefusedException(WireRefusal.FieldOutOfBounds($"{field} has {clock.Count} entries, not {entries}"));
        return clock;
    }

    public static void Write<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, VectorClock? clock)
        where TBufferWriter : System.Buffers.IBufferWriter<byte> => Instance.Serialize(ref writer, ref clock);
}

/// <summary>
/// A version: its merged clock, its writer clock (null when it is the merged clock), its value, then its deps
/// (count, then key and clock each). Every clock has the merged clock's size, and the writer clock lies within it.
/// </summary>
internal sealed class CausalVersionFormatter : MemoryPackFormatter<CausalVersion>
{
    public static readonly CausalVersionFormatter Instance = new();

    public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref CausalVersion? value)
    {
        if (value is null)
        {
            writer.WriteNullObjectHeader();
            return;
        }
        writer.WriteObjectHeader(4);
        VectorClockFormatter.Write(ref writer, value.Clock);
        VectorClockFormatter.Write(ref writer, value.WriterClock);
        writer.WriteUnmanagedArray(value.Value);
        writer.WriteCollectionHeader(value.Deps.Count);
        foreach (var (key, clock) in value.Deps) KeyedClock.Write(ref writer, key, clock);
    }

    public override void Deserialize(ref MemoryPackReader reader, scoped ref CausalVersion? value)
    {
        if (!reader.TryReadObjectHeader(out byte members))
        {
            value = null;
            return;
        }
        if (members != 4) throw new WireRefusedException(WireRefusal.Malformed($"CausalVersion has 4 members, not {members}"));
        var clock = VectorClockFormatter.Required(ref reader, "CausalVersion.Clock");
        var writerClock = VectorClockFormatter.Optional(ref reader, "CausalVersion.WriterClock", clock.Count);
        if (writerClock is not null && !writerClock.LessOrEqual(clock)) throw new WireRefusedException(WireRefusal.FieldOutOfBounds("CausalVersion.WriterClock is not within its Clock"));
        byte[]? bytes = reader.ReadUnmanagedArray<byte>();
        var deps = KeyedClock.ReadAll(ref reader, "CausalVersion.Deps", clock.Count) ?? throw WireRefusedException.Null("CausalVersion.Deps");
        value = new CausalVersion(bytes, clock, Dependencies.Of(deps), writerClock);
    }

    public static CausalVersion Required(ref MemoryPackReader reader, string field)
    {
        CausalVersion? version = null;
        Instance.Deserialize(ref reader, ref version);
        return version ?? throw WireRefusedException.Null(field);
    }

    public static void Write<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, CausalVersion version)
        where TBufferWriter : System.Buffers.IBufferWriter<byte> => Instance.Serialize(ref writer, ref version!);
}

/// <summary>A map of key → clock (a version's or a session's deps), every clock of one size.</summary>
internal static class KeyedClock
{
    public static void Write<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, StateKey key, VectorClock clock)
        where TBufferWriter : System.Buffers.IBufferWriter<byte>
    {
        StateKeyFormatter.Instance.Serialize(ref writer, ref key);
        VectorClockFormatter.Write(ref writer, clock);
    }

    public static void WriteAll<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, IReadOnlyCollection<KeyValuePair<StateKey, VectorClock>>? map)
        where TBufferWriter : System.Buffers.IBufferWriter<byte>
    {
        if (map is null)
        {
            writer.WriteNullCollectionHeader();
            return;
        }
        writer.WriteCollectionHeader(map.Count);
        foreach (var (key, clock) in map) Write(ref writer, key, clock);
    }

    /// <summary>
    /// The map, or null. Entries are added as they are read, never preallocated from the count: a forged count
    /// runs out of bytes before it can make the decoder allocate in proportion to it.
    /// </summary>
    /// <param name="entries">every clock's size; −1: the first clock's.</param>
    public static Dictionary<StateKey, VectorClock>? ReadAll(ref MemoryPackReader reader, string field, int entries)
    {
        if (!reader.TryReadCollectionHeader(out int count)) return null;
        var map = new Dictionary<StateKey, VectorClock>();
        for (int i = 0; i < count; i++)
        {
            StateKey key = default;
            StateKeyFormatter.Instance.Deserialize(ref reader, ref key);
            var clock = VectorClockFormatter.Required(ref reader, $"{field}[{key}]", entries);
            entries = clock.Count;
            if (!map.TryAdd(key, clock)) throw new WireRefusedException(WireRefusal.Malformed($"{field} holds {key} twice"));
        }
        return map;
    }
}

/// <summary>
/// A session as a message carries it: deps, own writes, floor, snapshot, written clock and a transaction's pending
/// writes, each entry in the sender's order. One clock size throughout, and no key twice in one part.
/// </summary>
internal sealed class SessionDataFormatter : MemoryPackFormatter<SessionData>
{
    public static readonly SessionDataFormatter Instance = new();
    private const byte Members = 6;

    public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref SessionData? value)
    {
        if (value is null)
        {
            writer.WriteNullObjectHeader();
            return;
        }
        writer.WriteObjectHeader(Members);
        writer.WriteCollectionHeader(value.Deps.Length);
        foreach (var (key, clock) in value.Deps) KeyedClock.Write(ref writer, key, clock);
        KeyedVersions.Write(ref writer, value.Local);
        VectorClockFormatter.Write(ref writer, value.Floor);
        VectorClockFormatter.Write(ref writer, value.Snapshot);
        VectorClockFormatter.Write(ref writer, value.Written);
        if (value.Pending is null) writer.WriteNullCollectionHeader();
        else
        {
            writer.WriteCollectionHeader(value.Pending.Length);
            foreach (var (key, bytes, function) in value.Pending)
            {
                var k = key;
                StateKeyFormatter.Instance.Serialize(ref writer, ref k);
                writer.WriteUnmanagedArray(bytes);
                writer.WriteUnmanaged(function);
            }
        }
    }

    public override void Deserialize(ref MemoryPackReader reader, scoped ref SessionData? value)
    {
        if (!reader.TryReadObjectHeader(out byte members))
        {
            value = null;
            return;
        }
        if (members != Members) throw new WireRefusedException(WireRefusal.Malformed($"SessionData has {Members} members, not {members}"));
        var depsMap = KeyedClock.ReadAll(ref reader, "SessionData.Deps", -1) ?? throw WireRefusedException.Null("SessionData.Deps");
        // One clock size for the whole session: the first clock read sets it.
        int entries = depsMap.Count > 0 ? depsMap.First().Value.Count : -1;
        KeyClock[] deps = [.. depsMap.Select(d => new KeyClock(d.Key, d.Value))];
        var local = KeyedVersions.Read(ref reader, "SessionData.Local", ref entries) ?? throw WireRefusedException.Null("SessionData.Local");
        var floor = VectorClockFormatter.Optional(ref reader, "SessionData.Floor", entries);
        if (floor is not null) entries = floor.Count;
        var snapshot = VectorClockFormatter.Optional(ref reader, "SessionData.Snapshot", entries);
        if (snapshot is not null) entries = snapshot.Count;
        var written = VectorClockFormatter.Optional(ref reader, "SessionData.Written", entries);
        PendingWrite[]? pending = null;
        if (reader.TryReadCollectionHeader(out int count))
        {
            var seen = new HashSet<StateKey>();
            var writes = new List<PendingWrite>();
            for (int i = 0; i < count; i++)
            {
                StateKey key = default;
                StateKeyFormatter.Instance.Deserialize(ref reader, ref key);
                byte[]? bytes = reader.ReadUnmanagedArray<byte>();
                int function = reader.ReadUnmanaged<int>();
                if (function < 0 || function >= WireCodec.DecodingLimits.MaxFunctionsPerWorkflow)
                    throw new WireRefusedException(WireRefusal.FieldOutOfBounds("SessionData.Pending function"));
                if (!seen.Add(key)) throw new WireRefusedException(WireRefusal.Malformed($"SessionData.Pending holds {key} twice"));
                writes.Add(new PendingWrite(key, bytes, function));
            }
            pending = [.. writes];
        }
        value = new SessionData(deps, local, floor, snapshot, pending, written);
    }
}

/// <summary>Keys and their versions (a session's own writes, a transaction's sibling writes), one clock size, no key twice.</summary>
internal static class KeyedVersions
{
    public static void Write<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, KeyedVersion[]? versions)
        where TBufferWriter : System.Buffers.IBufferWriter<byte>
    {
        if (versions is null)
        {
            writer.WriteNullCollectionHeader();
            return;
        }
        writer.WriteCollectionHeader(versions.Length);
        foreach (var (key, version) in versions)
        {
            var k = key;
            StateKeyFormatter.Instance.Serialize(ref writer, ref k);
            CausalVersionFormatter.Write(ref writer, version);
        }
    }

    /// <summary>The versions, or null; <paramref name="entries"/> is the clock size so far (−1: none yet), updated.</summary>
    public static KeyedVersion[]? Read(ref MemoryPackReader reader, string field, ref int entries)
    {
        if (!reader.TryReadCollectionHeader(out int count)) return null;
        var seen = new HashSet<StateKey>();
        var versions = new List<KeyedVersion>();
        for (int i = 0; i < count; i++)
        {
            StateKey key = default;
            StateKeyFormatter.Instance.Deserialize(ref reader, ref key);
            var version = CausalVersionFormatter.Required(ref reader, $"{field}[{key}]");
            if (entries >= 0 && version.Clock.Count != entries)
                throw new WireRefusedException(WireRefusal.FieldOutOfBounds($"{field} mixes clocks of {entries} and {version.Clock.Count} entries"));
            entries = version.Clock.Count;
            if (!seen.Add(key)) throw new WireRefusedException(WireRefusal.Malformed($"{field} holds {key} twice"));
            versions.Add(new KeyedVersion(key, version));
        }
        return [.. versions];
    }
}

/// <summary>One read or write as a history records it.</summary>
internal sealed class CausalOpFormatter : MemoryPackFormatter<CausalOp>
{
    public static readonly CausalOpFormatter Instance = new();

    public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref CausalOp value)
    {
        StrictBool.Write(ref writer, value.IsWrite);
        var key = value.Key;
        StateKeyFormatter.Instance.Serialize(ref writer, ref key);
        writer.WriteUnmanagedArray(value.Value);
        StrictBool.Write(ref writer, value.Initial);
    }

    public override void Deserialize(ref MemoryPackReader reader, scoped ref CausalOp value)
    {
        bool isWrite = StrictBool.Read(ref reader, "CausalOp.IsWrite");
        StateKey key = default;
        StateKeyFormatter.Instance.Deserialize(ref reader, ref key);
        byte[]? bytes = reader.ReadUnmanagedArray<byte>();
        value = new CausalOp(isWrite, key, bytes, StrictBool.Read(ref reader, "CausalOp.Initial"));
    }
}

/// <summary>A function execution's history record (null: the caller asked for none).</summary>
internal sealed class FunctionRecordDataFormatter : MemoryPackFormatter<FunctionRecordData>
{
    private const byte Members = 9;

    public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref FunctionRecordData? value)
    {
        if (value is null)
        {
            writer.WriteNullObjectHeader();
            return;
        }
        writer.WriteObjectHeader(Members);
        writer.WriteUnmanaged(value.Process, value.Seq, value.Workflow, value.Function);
        writer.WriteUnmanagedArray(value.Parents);
        StrictBool.Write(ref writer, value.Ok);
        writer.WriteUnmanaged(value.Server);
        writer.WriteCollectionHeader(value.Ops.Length);
        foreach (var op in value.Ops)
        {
            var o = op;
            CausalOpFormatter.Instance.Serialize(ref writer, ref o);
        }
        StrictBool.Write(ref writer, value.Transaction);
    }

    public override void Deserialize(ref MemoryPackReader reader, scoped ref FunctionRecordData? value)
    {
        if (!reader.TryReadObjectHeader(out byte members))
        {
            value = null;
            return;
        }
        if (members != Members) throw new WireRefusedException(WireRefusal.Malformed($"FunctionRecordData has {Members} members, not {members}"));
        reader.ReadUnmanaged(out long process, out long seq, out long workflow, out int function);
        int[] parents = reader.ReadUnmanagedArray<int>() ?? throw WireRefusedException.Null("FunctionRecordData.Parents");
        bool ok = StrictBool.Read(ref reader, "FunctionRecordData.Ok");
        int server = reader.ReadUnmanaged<int>();
        if (!reader.TryReadCollectionHeader(out int count)) throw WireRefusedException.Null("FunctionRecordData.Ops");
        var ops = new List<CausalOp>();
        for (int i = 0; i < count; i++)
        {
            CausalOp op = default;
            CausalOpFormatter.Instance.Deserialize(ref reader, ref op);
            ops.Add(op);
        }
        value = new FunctionRecordData(process, seq, workflow, function, parents, ok, server, [.. ops], StrictBool.Read(ref reader, "FunctionRecordData.Transaction"));
    }
}
