using System.Text;

namespace Leasehold.Runtime.Causal.Persistence;

/// <summary>
/// How a <see cref="CausalVersion"/> is stored (§6: per key, the merged version with its clock and deps).
/// Layout: a format byte (1); the entry count N; the merged clock (N varints); a flags byte (1: a value
/// follows, 2: a writer clock follows because it differs from the merged clock); the writer clock; the
/// value (length-prefixed); the deps (count, then table, key and clock each). Varints are unsigned LEB128.
/// Decoding checks everything, so a corrupt or foreign value is an error naming the cause, never a
/// silently wrong version.
/// </summary>
public static class CausalVersionCodec
{
    public const byte Format = 1;
    private const byte HasValue = 1, HasWriter = 2;

    public static byte[] Encode(CausalVersion version)
    {
        var w = new Writer();
        w.Byte(Format);
        int n = version.Clock.Count;
        w.Varint((ulong)n);
        w.Clock(version.Clock);
        bool writer = version.WriterClock is { } wc && !wc.Equals(version.Clock);
        w.Byte((byte)((version.Value is null ? 0 : HasValue) | (writer ? HasWriter : 0)));
        if (writer) w.Clock(version.WriterClock!);
        if (version.Value is { } value) w.Bytes(value);
        w.Varint((ulong)version.Deps.Count);
        foreach (var (key, clock) in version.Deps)
        {
            if (clock.Count != n) throw new ArgumentException($"dep {key} has a clock of {clock.Count} entries, the version {n}");
            w.Bytes(Encoding.UTF8.GetBytes(key.Table));
            w.Bytes(Encoding.UTF8.GetBytes(key.Key));
            w.Clock(clock);
        }
        return w.ToArray();
    }

    /// <summary>Decodes a stored version; <paramref name="servers"/> is the cluster's size, which every clock must match.</summary>
    /// <exception cref="CausalVersionFormatException">The bytes are not a version this build wrote, named why.</exception>
    public static CausalVersion Decode(ReadOnlySpan<byte> bytes, int servers)
    {
        var r = new Reader(bytes);
        if (bytes.IsEmpty) throw new CausalVersionFormatException("empty: not even the format byte");
        byte format = r.Byte("the format byte");
        if (format != Format) throw new CausalVersionFormatException($"format {format} is not one this build reads (it reads {Format})");
        ulong n = r.Varint("the clock's entry count");
        if (n != (ulong)servers)
            throw new CausalVersionFormatException($"its clocks have {n} entries, but this cluster has {servers} servers (was the store written by a cluster of another size?)");
        var clock = r.Clock(servers, "the merged clock");
        byte flags = r.Byte("the flags byte");
        if ((flags & ~(HasValue | HasWriter)) != 0) throw new CausalVersionFormatException($"unknown flags 0x{flags:x2}");
        VectorClock? writer = null;
        if ((flags & HasWriter) != 0)
        {
            writer = r.Clock(servers, "the writer clock");
            if (!writer.LessOrEqual(clock)) throw new CausalVersionFormatException($"the writer clock {writer} is not within the merged clock {clock}");
        }
        byte[]? value = (flags & HasValue) != 0 ? r.Bytes("the value").ToArray() : null;
        ulong count = r.Varint("the dependency count");
        if (count > (ulong)bytes.Length) throw new CausalVersionFormatException($"{count} dependencies cannot fit in {bytes.Length} bytes");
        var deps = new Dictionary<StateKey, VectorClock>((int)count);
        for (ulong d = 0; d < count; d++)
        {
            string table = r.Text($"dependency {d}'s table"), key = r.Text($"dependency {d}'s key");
            if (!deps.TryAdd(new StateKey(table, key), r.Clock(servers, $"dependency {d}'s clock")))
                throw new CausalVersionFormatException($"dependency {table}/{key} appears twice");
        }
        if (!r.AtEnd) throw new CausalVersionFormatException($"{r.Left} trailing bytes after the version");
        return new CausalVersion(value, clock, deps, writer);
    }

    internal sealed class Writer
    {
        private readonly MemoryStream _out = new();
        public void Byte(byte b) => _out.WriteByte(b);
        public void Varint(ulong v)
        {
            while (v >= 0x80) { _out.WriteByte((byte)(v | 0x80)); v >>= 7; }
            _out.WriteByte((byte)v);
        }
        public void Clock(VectorClock clock)
        {
            foreach (long e in clock.Entries) Varint((ulong)e);
        }
        public void Bytes(ReadOnlySpan<byte> bytes)
        {
            Varint((ulong)bytes.Length);
            _out.Write(bytes);
        }
        public byte[] ToArray() => _out.ToArray();
    }

    internal ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _at;

        public readonly bool AtEnd => _at == _bytes.Length;
        public readonly int Left => _bytes.Length - _at;

        public byte Byte(string what)
        {
            if (_at >= _bytes.Length) throw Truncated(what);
            return _bytes[_at++];
        }

        public ulong Varint(string what)
        {
            ulong v = 0;
            for (int shift = 0; ; shift += 7)
            {
                if (shift > 63) throw new CausalVersionFormatException($"{what} at offset {_at} is a varint longer than 64 bits");
                byte b = Byte(what);
                v |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80) return v;
            }
        }

        public VectorClock Clock(int n, string what)
        {
            var entries = new long[n];
            for (int i = 0; i < n; i++)
            {
                ulong e = Varint($"{what}, entry {i}");
                if (e > long.MaxValue) throw new CausalVersionFormatException($"{what}, entry {i}, is {e}: beyond a clock entry's range");
                entries[i] = (long)e;
            }
            return VectorClock.Of(entries);
        }

        public ReadOnlySpan<byte> Bytes(string what)
        {
            ulong length = Varint($"{what}'s length");
            if (length > (ulong)Left) throw new CausalVersionFormatException($"{what} claims {length} bytes at offset {_at}, but only {Left} are left (truncated)");
            var span = _bytes.Slice(_at, (int)length);
            _at += (int)length;
            return span;
        }

        public string Text(string what)
        {
            var bytes = Bytes(what);
            try { return Strict.GetString(bytes); }
            catch (DecoderFallbackException) { throw new CausalVersionFormatException($"{what} is not UTF-8"); }
        }

        private readonly CausalVersionFormatException Truncated(string what) =>
            new($"truncated: {what} is missing at offset {_at} of {_bytes.Length}");
    }

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}

/// <summary>Stored bytes that are not a causal version: the message names what is wrong and where.</summary>
public sealed class CausalVersionFormatException(string cause) : FormatException($"not a stored causal version: {cause}")
{
    /// <summary>What is wrong, without the prefix: for a format that embeds versions (a session token) to name it in its own terms.</summary>
    public string Cause { get; } = cause;
}
