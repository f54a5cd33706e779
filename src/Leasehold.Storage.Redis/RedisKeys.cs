using System.Buffers;
using System.Globalization;
using System.Text;
using StackExchange.Redis;

namespace Leasehold.Storage.Redis;

/// <summary>
/// The key layout of one Leasehold store (a keyspace K) in a Redis Cluster.
/// <code>
/// K:v:len(T):T:O     hash  field = batch (decimal) → tag (1 value, 0 delete) + bytes: the versions of object O of table T
/// K:r:N              string                       → the conditional record N
/// {K}:format         string                       → format marker
/// {K}:commit         string                       → last committed batch (the commit record, the one atomic point)
/// {K}:w:B            set of version keys          → the write index of uncommitted batch B
/// {K}:wb             sorted set (score = batch)   → the batches that have a write index
/// {K}:l:B            string                       → the logged input of batch B
/// {K}:lb             sorted set (score = batch)   → the batches that have a logged input
/// </code>
/// Redis hashes a key to its slot by the text between the first '{' and the next '}' when there is
/// one. The keyspace is restricted to letters, digits and <c>._-</c>, and '{', '}' (and '%', the escape)
/// in table, key and record names are percent-escaped, so the only braces in any key are the ones above:
/// the metadata of a keyspace deliberately shares one slot (so one Lua script may check the commit record
/// and touch the index or the log atomically), while version and record keys have no hash tag and spread
/// over every slot by their whole text: a batch is never forced onto one master. The table is
/// length-prefixed (in bytes of its escaped UTF-8) and the object key comes last, so any text, ':' and NUL
/// included, names exactly one key, and <c>K:v:len(T):T:*</c> matches the objects of T and of no other table.
/// </summary>
internal sealed class RedisKeys
{
    public const string FormatValue = "leasehold-store/1";
    private static readonly SearchValues<char> Escaped = SearchValues.Create("%{}");
    private static readonly SearchValues<char> GlobSpecial = SearchValues.Create("*?[]\\");

    public RedisKeys(string keyspace)
    {
        if (!IsValidKeyspace(keyspace))
            throw new ArgumentException($"redis keyspace '{keyspace}' must be 1 to 100 letters, digits, '.', '_' or '-'", nameof(keyspace));
        Keyspace = keyspace;
        Format = $"{{{keyspace}}}:format";
        Commit = $"{{{keyspace}}}:commit";
        IndexedBatches = $"{{{keyspace}}}:wb";
        LoggedBatches = $"{{{keyspace}}}:lb";
        Epoch = $"{{{keyspace}}}:epoch";
    }

    public string Keyspace { get; }
    public RedisKey Format { get; }
    public RedisKey Commit { get; }
    public RedisKey IndexedBatches { get; }
    public RedisKey LoggedBatches { get; }
    /// <summary>The latest owner's epoch: in the commit record's slot, so the commit script can check it.</summary>
    public RedisKey Epoch { get; }

    public RedisKey Index(long batch) => $"{{{Keyspace}}}:w:{Field(batch)}";
    public RedisKey Log(long batch) => $"{{{Keyspace}}}:l:{Field(batch)}";
    public RedisKey Record(string name) => $"{Keyspace}:r:{Escape(name)}";
    public string Version(StateKey key) => TablePrefix(key.Table) + Escape(key.Key);

    /// <summary>The common start of every version key of <paramref name="table"/>.</summary>
    public string TablePrefix(string table)
    {
        string escaped = Escape(table);
        return $"{Keyspace}:v:{Encoding.UTF8.GetByteCount(escaped)}:{escaped}:";
    }

    /// <summary>A SCAN MATCH pattern for the version keys of <paramref name="table"/> (glob characters in it escaped).</summary>
    public string TablePattern(string table) => GlobEscape(TablePrefix(table)) + "*";

    /// <summary>The object key of a version key that starts with <paramref name="tablePrefix"/>.</summary>
    public static string ObjectKeyOf(string versionKey, string tablePrefix) => Unescape(versionKey[tablePrefix.Length..]);

    /// <summary>SCAN MATCH patterns that cover every key of the keyspace (for tools and tests that remove one).</summary>
    public string[] AllKeysPatterns => [$"{Keyspace}:*", $"{{{Keyspace}}}:*"];

    /// <summary>A batch as a hash field, set member or key part: decimal, invariant.</summary>
    public static string Field(long batch) => batch.ToString(CultureInfo.InvariantCulture);

    public static bool IsValidKeyspace(string keyspace) =>
        keyspace.Length is > 0 and <= 100 && keyspace.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    internal static string Escape(string text)
    {
        if (text.AsSpan().IndexOfAny(Escaped) < 0) return text;
        var sb = new StringBuilder(text.Length + 8);
        foreach (char c in text)
            sb.Append(c switch { '%' => "%25", '{' => "%7B", '}' => "%7D", _ => c.ToString() });
        return sb.ToString();
    }

    // Every '%' of an escaped text starts one of the three escapes, so replacing them one kind after the
    // other cannot join the tail of one escape to the head of another.
    internal static string Unescape(string text) =>
        text.Contains('%') ? text.Replace("%7B", "{").Replace("%7D", "}").Replace("%25", "%") : text;

    private static string GlobEscape(string text)
    {
        if (text.AsSpan().IndexOfAny(GlobSpecial) < 0) return text;
        var sb = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            if (GlobSpecial.Contains(c)) sb.Append('\\');
            sb.Append(c);
        }
        return sb.ToString();
    }
}
