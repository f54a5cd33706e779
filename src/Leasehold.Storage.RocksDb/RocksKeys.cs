using System.Buffers.Binary;
using System.Text;

namespace Leasehold.Storage.RocksDb;

/// <summary>
/// The byte layout of a Leasehold store in one RocksDB keyspace. Every key starts with a tag byte;
/// big-endian numbers sort in numeric order, so the versions of one object lie together, oldest first,
/// and "the newest version at or below batch b" is one SeekForPrev.
/// <code>
/// 'F'                                      → format marker
/// 'C'                                      → last committed batch (the commit record)
/// 'V' len(table):u16 table len(key):u32 key batch:u64  → tag (1 value, 0 delete) + bytes
/// 'W' batch:u64 write:u64                  → the object prefixes one WriteVersions call wrote (the write index)
/// 'L' batch:u64                            → the batch's logged input
/// 'R' name                                 → a conditional record
/// </code>
/// Lengths, not separators, delimit table and key, so any text (a NUL included) is a valid key.
/// </summary>
internal static class RocksKeys
{
    public const byte Format = (byte)'F', Commit = (byte)'C', Version = (byte)'V', WriteIndex = (byte)'W', Log = (byte)'L', Record = (byte)'R';
    public static readonly byte[] FormatKey = [Format];
    public static readonly byte[] CommitKey = [Commit];
    /// <summary>The latest owner's epoch (see IStateStore.ClaimAsync), eight bytes little-endian.</summary>
    public static readonly byte[] EpochKey = [(byte)'E'];
    public static readonly byte[] FormatValue = "leasehold-store/1"u8.ToArray();

    /// <summary>The prefix of every version of one object.</summary>
    public static byte[] ObjectPrefix(StateKey key)
    {
        int t = Encoding.UTF8.GetByteCount(key.Table), k = Encoding.UTF8.GetByteCount(key.Key);
        if (t > ushort.MaxValue) throw new ArgumentException($"table name of {t} bytes is longer than 65535");
        var bytes = new byte[1 + 2 + t + 4 + k];
        bytes[0] = Version;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(1), (ushort)t);
        Encoding.UTF8.GetBytes(key.Table, bytes.AsSpan(3));
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(3 + t), (uint)k);
        Encoding.UTF8.GetBytes(key.Key, bytes.AsSpan(7 + t));
        return bytes;
    }

    /// <summary>The prefix of every version of every object of a table.</summary>
    public static byte[] TablePrefix(string table)
    {
        int t = Encoding.UTF8.GetByteCount(table);
        var bytes = new byte[3 + t];
        bytes[0] = Version;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(1), (ushort)t);
        Encoding.UTF8.GetBytes(table, bytes.AsSpan(3));
        return bytes;
    }

    public static byte[] VersionKey(byte[] objectPrefix, long batch)
    {
        var bytes = new byte[objectPrefix.Length + 8];
        objectPrefix.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(objectPrefix.Length), batch);
        return bytes;
    }

    public static long BatchOfVersion(ReadOnlySpan<byte> versionKey) => BinaryPrimitives.ReadInt64BigEndian(versionKey[^8..]);

    /// <summary>The object key encoded in a version key (the part between the table and the batch).</summary>
    public static string ObjectKeyOf(ReadOnlySpan<byte> versionKey)
    {
        int t = BinaryPrimitives.ReadUInt16BigEndian(versionKey[1..]);
        int k = (int)BinaryPrimitives.ReadUInt32BigEndian(versionKey[(3 + t)..]);
        return Encoding.UTF8.GetString(versionKey.Slice(7 + t, k));
    }

    public static int ObjectPrefixLength(ReadOnlySpan<byte> versionKey) => versionKey.Length - 8;

    public static byte[] Numbered(byte tag, long a, long? b = null)
    {
        var bytes = new byte[b is null ? 9 : 17];
        bytes[0] = tag;
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(1), a);
        if (b is { } second) BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(9), second);
        return bytes;
    }

    public static long NumberAt(ReadOnlySpan<byte> key, int offset) => BinaryPrimitives.ReadInt64BigEndian(key[offset..]);

    public static byte[] RecordKey(string name)
    {
        var bytes = new byte[1 + Encoding.UTF8.GetByteCount(name)];
        bytes[0] = Record;
        Encoding.UTF8.GetBytes(name, bytes.AsSpan(1));
        return bytes;
    }

    /// <summary>The write index's value: the object prefixes, each with its length.</summary>
    public static byte[] EncodePrefixes(IReadOnlyList<byte[]> prefixes)
    {
        var bytes = new byte[prefixes.Sum(p => p.Length + 4)];
        int at = 0;
        foreach (var p in prefixes)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(at), p.Length);
            p.CopyTo(bytes, at + 4);
            at += p.Length + 4;
        }
        return bytes;
    }

    public static List<byte[]> DecodePrefixes(ReadOnlySpan<byte> bytes)
    {
        var prefixes = new List<byte[]>();
        for (int at = 0; at < bytes.Length;)
        {
            int n = BinaryPrimitives.ReadInt32BigEndian(bytes[at..]);
            prefixes.Add(bytes.Slice(at + 4, n).ToArray());
            at += n + 4;
        }
        return prefixes;
    }

    /// <summary>The smallest key greater than every key starting with <paramref name="prefix"/>.</summary>
    public static byte[] UpperBound(byte[] prefix)
    {
        var bound = (byte[])prefix.Clone();
        for (int i = bound.Length - 1; i >= 0; i--)
        {
            if (bound[i] != 0xFF)
            {
                bound[i]++;
                return bound[..(i + 1)];
            }
        }
        throw new ArgumentException("a prefix of only 0xFF bytes has no upper bound");
    }
}
