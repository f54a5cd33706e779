using Leasehold.Runtime.Causal;
using MemoryPack;

namespace Leasehold.Runtime.Transport.Wire;

// Formatters for the causal runtime's values. None of them is a plain record the serializer could generate:
// a vector clock hides its entries, a session keeps internal fields, versions and sessions hold dictionaries.
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
        value = new CausalVersion(bytes, clock, deps, writerClock);
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
/// A workflow's session: deps, own writes, where its deps are integrated, floor, snapshot, pending writes and
/// written clock. A baseline protocol's session is the baseline's own object and never crosses this wire.
/// </summary>
internal sealed class CausalSessionFormatter : MemoryPackFormatter<CausalSession>
{
    public static readonly CausalSessionFormatter Instance = new();
    private const byte Members = 7;

    public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref CausalSession? value)
    {
        if (value is null)
        {
            writer.WriteNullObjectHeader();
            return;
        }
        if (value.Baseline is not null) throw new InvalidOperationException("a baseline protocol's session has no wire form: baselines keep their own sends");
        writer.WriteObjectHeader(Members);
        KeyedClock.WriteAll(ref writer, value.Deps);
        writer.WriteCollectionHeader(value.Local.Count);
        foreach (var (key, version) in value.Local)
        {
            var k = key;
            StateKeyFormatter.Instance.Serialize(ref writer, ref k);
            CausalVersionFormatter.Write(ref writer, version);
        }
        writer.WriteUnmanaged(value.IntegratedAt);
        VectorClockFormatter.Write(ref writer, value.Floor);
        VectorClockFormatter.Write(ref writer, value.Snapshot);
        VectorClockFormatter.Write(ref writer, value.Written);
        if (value.Pending is null) writer.WriteNullCollectionHeader();
        else
        {
            writer.WriteCollectionHeader(value.Pending.Count);
            foreach (var (key, (bytes, function)) in value.Pending)
            {
                var k = key;
                StateKeyFormatter.Instance.Serialize(ref writer, ref k);
                writer.WriteUnmanagedArray(bytes);
                writer.WriteUnmanaged(function);
            }
        }
    }

    public override void Deserialize(ref MemoryPackReader reader, scoped ref CausalSession? value)
    {
        if (!reader.TryReadObjectHeader(out byte members))
        {
            value = null;
            return;
        }
        if (members != Members) throw new WireRefusedException(WireRefusal.Malformed($"CausalSession has {Members} members, not {members}"));
        var session = new CausalSession();
        var deps = KeyedClock.ReadAll(ref reader, "CausalSession.Deps", -1) ?? throw WireRefusedException.Null("CausalSession.Deps");
        // One clock size for the whole session: the first clock read sets it.
        int entries = deps.Count > 0 ? deps.First().Value.Count : -1;
        foreach (var (key, clock) in deps) session.Deps.Add(key, clock);
        if (!reader.TryReadCollectionHeader(out int local)) throw WireRefusedException.Null("CausalSession.Local");
        for (int i = 0; i < local; i++)
        {
            StateKey key = default;
            StateKeyFormatter.Instance.Deserialize(ref reader, ref key);
            var version = CausalVersionFormatter.Required(ref reader, $"CausalSession.Local[{key}]");
            entries = SameSize(entries, version.Clock, "CausalSession.Local");
            if (!session.Local.TryAdd(key, version)) throw new WireRefusedException(WireRefusal.Malformed($"CausalSession.Local holds {key} twice"));
        }
        session.IntegratedAt = reader.ReadUnmanaged<int>();
        if (session.IntegratedAt < -1 || session.IntegratedAt >= WireCodec.DecodingLimits.MaxServers)
            throw new WireRefusedException(WireRefusal.FieldOutOfBounds("CausalSession.IntegratedAt"));
        session.Floor = VectorClockFormatter.Optional(ref reader, "CausalSession.Floor", entries);
        if (session.Floor is not null) entries = session.Floor.Count;
        session.Snapshot = VectorClockFormatter.Optional(ref reader, "CausalSession.Snapshot", entries);
        if (session.Snapshot is not null) entries = session.Snapshot.Count;
        session.Written = VectorClockFormatter.Optional(ref reader, "CausalSession.Written", entries);
        if (reader.TryReadCollectionHeader(out int pending))
        {
            session.Pending = [];
            for (int i = 0; i < pending; i++)
            {
                StateKey key = default;
                StateKeyFormatter.Instance.Deserialize(ref reader, ref key);
                byte[]? bytes = reader.ReadUnmanagedArray<byte>();
                int function = reader.ReadUnmanaged<int>();
                if (function < 0 || function >= WireCodec.DecodingLimits.MaxFunctionsPerWorkflow)
                    throw new WireRefusedException(WireRefusal.FieldOutOfBounds("CausalSession.Pending function"));
                if (!session.Pending.TryAdd(key, (bytes, function))) throw new WireRefusedException(WireRefusal.Malformed($"CausalSession.Pending holds {key} twice"));
            }
        }
        value = session;
    }

    private static int SameSize(int entries, VectorClock clock, string field) =>
        entries < 0 || clock.Count == entries ? clock.Count : throw new WireRefusedException(WireRefusal.FieldOutOfBounds($"{field} mixes clocks of {entries} and {clock.Count} entries"));
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
internal sealed class CausalFunctionRecordFormatter : MemoryPackFormatter<CausalFunctionRecord>
{
    private const byte Members = 9;

    public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref CausalFunctionRecord? value)
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
        writer.WriteCollectionHeader(value.Ops.Count);
        foreach (var op in value.Ops)
        {
            var o = op;
            CausalOpFormatter.Instance.Serialize(ref writer, ref o);
        }
        StrictBool.Write(ref writer, value.Transaction);
    }

    public override void Deserialize(ref MemoryPackReader reader, scoped ref CausalFunctionRecord? value)
    {
        if (!reader.TryReadObjectHeader(out byte members))
        {
            value = null;
            return;
        }
        if (members != Members) throw new WireRefusedException(WireRefusal.Malformed($"CausalFunctionRecord has {Members} members, not {members}"));
        reader.ReadUnmanaged(out long process, out long seq, out long workflow, out int function);
        int[] parents = reader.ReadUnmanagedArray<int>() ?? throw WireRefusedException.Null("CausalFunctionRecord.Parents");
        bool ok = StrictBool.Read(ref reader, "CausalFunctionRecord.Ok");
        int server = reader.ReadUnmanaged<int>();
        if (!reader.TryReadCollectionHeader(out int count)) throw WireRefusedException.Null("CausalFunctionRecord.Ops");
        var ops = new List<CausalOp>();
        for (int i = 0; i < count; i++)
        {
            CausalOp op = default;
            CausalOpFormatter.Instance.Deserialize(ref reader, ref op);
            ops.Add(op);
        }
        value = new CausalFunctionRecord(process, seq, workflow, function, parents, ok, server, ops) { Transaction = StrictBool.Read(ref reader, "CausalFunctionRecord.Transaction") };
    }
}
