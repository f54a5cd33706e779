using System.Buffers.Binary;
using System.Text;
using Leasehold.Runtime.Causal.Persistence;

namespace Leasehold.Runtime.Causal;

/// <summary>
/// A session token's binary form, for clients outside the process. Layout: the format byte (1); the issuing
/// cluster's id (8 bytes, little-endian); its server count N (varint); the deps (count, then table, key and
/// clock each); the session's own writes (count, then table, key and the version as CausalVersionCodec stores
/// it); a flags byte (1: the floor clock follows, 2: the written clock follows); those clocks. Clocks are N
/// varints; varints are unsigned LEB128. Decoding checks everything and refuses trailing bytes, so a damaged or
/// foreign token is an error naming the cause, never a session that is silently wrong.
/// </summary>
public static class SessionTokenCodec
{
    public const byte Format = 1;
    private const byte HasFloor = 1, HasWritten = 2;
    private const int MaxServers = 1024;

    internal static byte[] Encode(CausalSession session, ulong cluster, int servers)
    {
        if (session.Baseline is not null)
            throw new NotSupportedException("a baseline protocol's session token lives in its process only; only causalmesh tokens have a serialized form");
        var w = new CausalVersionCodec.Writer();
        w.Byte(Format);
        Span<byte> id = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(id, cluster);
        foreach (byte b in id) w.Byte(b);
        w.Varint((ulong)servers);
        // Sorted, so one session always has one form (dictionary order is not part of the format).
        var deps = session.Deps.OrderBy(d => d.Key.Table, StringComparer.Ordinal).ThenBy(d => d.Key.Key, StringComparer.Ordinal).ToList();
        w.Varint((ulong)deps.Count);
        foreach (var (key, clock) in deps)
        {
            Key(w, key);
            w.Clock(clock);
        }
        var local = session.Local.OrderBy(d => d.Key.Table, StringComparer.Ordinal).ThenBy(d => d.Key.Key, StringComparer.Ordinal).ToList();
        w.Varint((ulong)local.Count);
        foreach (var (key, version) in local)
        {
            Key(w, key);
            w.Bytes(CausalVersionCodec.Encode(version));
        }
        w.Byte((byte)((session.Floor is null ? 0 : HasFloor) | (session.Written is null ? 0 : HasWritten)));
        if (session.Floor is { } floor) w.Clock(floor);
        if (session.Written is { } written) w.Clock(written);
        return w.ToArray();
    }

    private static void Key(CausalVersionCodec.Writer w, StateKey key)
    {
        w.Bytes(Encoding.UTF8.GetBytes(key.Table));
        w.Bytes(Encoding.UTF8.GetBytes(key.Key));
    }

    /// <exception cref="SessionTokenFormatException">The bytes are not a token this build reads, named why.</exception>
    internal static SessionToken Decode(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return DecodeChecked(bytes);
        }
        catch (CausalVersionFormatException e)
        {
            throw new SessionTokenFormatException(e.Cause);
        }
    }

    private static SessionToken DecodeChecked(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) throw new SessionTokenFormatException("empty: not even the format byte");
        var r = new CausalVersionCodec.Reader(bytes);
        byte format = r.Byte("the format byte");
        if (format != Format) throw new SessionTokenFormatException($"format {format} is not one this build reads (it reads {Format})");
        Span<byte> id = stackalloc byte[8];
        for (int i = 0; i < id.Length; i++) id[i] = r.Byte("the cluster id");
        ulong cluster = BinaryPrimitives.ReadUInt64LittleEndian(id);
        ulong n = r.Varint("the server count");
        if (n is 0 or > MaxServers) throw new SessionTokenFormatException($"a cluster has 1..{MaxServers} servers, not {n}");
        int servers = (int)n;
        var session = new CausalSession();
        ulong deps = Count(ref r, bytes.Length, "dependency");
        for (ulong d = 0; d < deps; d++)
        {
            var key = new StateKey(r.Text($"dependency {d}'s table"), r.Text($"dependency {d}'s key"));
            if (!session.Deps.TryAdd(key, r.Clock(servers, $"dependency {d}'s clock"))) throw new SessionTokenFormatException($"dependency {key} appears twice");
        }
        ulong local = Count(ref r, bytes.Length, "own write");
        for (ulong l = 0; l < local; l++)
        {
            var key = new StateKey(r.Text($"own write {l}'s table"), r.Text($"own write {l}'s key"));
            var stored = r.Bytes($"own write {l}'s version");
            CausalVersion version;
            try { version = CausalVersionCodec.Decode(stored, servers); }
            catch (CausalVersionFormatException e) { throw new SessionTokenFormatException($"own write {key}'s version: {e.Cause}"); }
            if (!session.Local.TryAdd(key, version)) throw new SessionTokenFormatException($"own write {key} appears twice");
        }
        byte flags = r.Byte("the flags byte");
        if ((flags & ~(HasFloor | HasWritten)) != 0) throw new SessionTokenFormatException($"unknown flags 0x{flags:x2}");
        if ((flags & HasFloor) != 0) session.Floor = r.Clock(servers, "the floor clock");
        if ((flags & HasWritten) != 0) session.Written = r.Clock(servers, "the written clock");
        if (!r.AtEnd) throw new SessionTokenFormatException($"{r.Left} trailing bytes after the token");
        return new SessionToken(session, new ClusterIdentity(cluster, servers));
    }

    private static ulong Count(ref CausalVersionCodec.Reader r, int length, string what)
    {
        ulong count = r.Varint($"the {what} count");
        if (count > (ulong)length) throw new SessionTokenFormatException($"{count} entries of {what} cannot fit in {length} bytes");
        return count;
    }
}

/// <summary>Bytes that are not a session token this build reads: the message names what is wrong and where.</summary>
public sealed class SessionTokenFormatException(string message) : FormatException($"not a session token: {message}");
