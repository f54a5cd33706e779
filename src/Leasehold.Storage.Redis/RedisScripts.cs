namespace Leasehold.Storage.Redis;

/// <summary>
/// The Lua scripts of the Redis engine. A script runs atomically on the master of its keys' slot, and in a
/// cluster all its KEYS must share that slot: the metadata scripts get only <c>{K}:…</c> keys (one slot
/// per keyspace, see <see cref="RedisKeys"/>), the version scripts one version hash each. Keys another
/// script must touch (the version keys named by the write index) travel as data and are handled by the client.
/// </summary>
internal static class RedisScripts
{
    /// <summary>
    /// WriteVersions, before the versions themselves: refuses a committed batch against the commit record
    /// (atomically, whoever committed it), then records the version keys in the batch's write index.
    /// KEYS: commit record, indexed batches, index of the batch. ARGV: batch, version keys….
    /// Returns -1 when indexed, else the last committed batch.
    /// </summary>
    public const string Index = """
        local committed = tonumber(redis.call('GET', KEYS[1]) or '0')
        if tonumber(ARGV[1]) <= committed then return committed end
        if #ARGV > 1 then
          redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
          for i = 2, #ARGV, 1000 do
            redis.call('SADD', KEYS[3], unpack(ARGV, i, math.min(i + 999, #ARGV)))
          end
        end
        return -1
        """;

    /// <summary>
    /// The commit: only last + 1 may commit. Writes the record and drops the batch's write index, returning
    /// the version keys it named so the client can prune what they supersede.
    /// The batch's logged input goes too: recovery re-executes only batches that did not commit.
    /// KEYS: commit record, indexed batches, index of the batch, logged batches, log of the batch, epoch.
    /// ARGV: batch, the committer's epoch ('0': unfenced).
    /// Returns {-1, version keys} when committed, {-2, current epoch} when fenced, else {last committed}.
    /// </summary>
    public const string Commit = """
        local epoch = redis.call('GET', KEYS[6]) or '0'
        if ARGV[2] ~= '0' and epoch ~= ARGV[2] then return {-2, tonumber(epoch)} end
        local committed = tonumber(redis.call('GET', KEYS[1]) or '0')
        if tonumber(ARGV[1]) ~= committed + 1 then return {committed} end
        redis.call('SET', KEYS[1], ARGV[1])
        local written = redis.call('SMEMBERS', KEYS[3])
        redis.call('DEL', KEYS[3])
        redis.call('ZREM', KEYS[2], ARGV[1])
        redis.call('DEL', KEYS[5])
        redis.call('ZREM', KEYS[4], ARGV[1])
        return {-1, written}
        """;

    /// <summary>
    /// After batch ARGV[1] committed: removes the versions of KEYS[1] it superseded, and its own version too
    /// when that is a delete (nothing older is left for it to hide). Newer, uncommitted versions stay.
    /// </summary>
    public const string Prune = """
        local b = tonumber(ARGV[1])
        for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
          if tonumber(f) < b then redis.call('HDEL', KEYS[1], f) end
        end
        local v = redis.call('HGET', KEYS[1], ARGV[1])
        if v and string.byte(v, 1) == 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
        return 0
        """;

    /// <summary>
    /// Reads the versions hash KEYS[1] as of last committed batch ARGV[1]: {batch, stored value} of the
    /// newest version at or below it; else {oldest batch above it}, which tells a reader whose commit
    /// record went stale while a commit pruned the version it wanted to look again; else {}.
    /// </summary>
    public const string Read = """
        local last = tonumber(ARGV[1])
        local best, bestField, above
        for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
          local b = tonumber(f)
          if b <= last then
            if not best or b > best then best, bestField = b, f end
          elseif not above or b < above then
            above = b
          end
        end
        if best then return {best, redis.call('HGET', KEYS[1], bestField)} end
        if above then return {above} end
        return {}
        """;

    /// <summary>Drops a discarded batch's write index. KEYS: indexed batches, index of the batch. ARGV: batch.</summary>
    public const string DropIndex = """
        redis.call('DEL', KEYS[2])
        redis.call('ZREM', KEYS[1], ARGV[1])
        return 0
        """;

    /// <summary>Logs a batch input. KEYS: logged batches, the entry. ARGV: batch, input.</summary>
    public const string AppendLog = """
        local epoch = redis.call('GET', KEYS[3]) or '0'
        if ARGV[3] ~= '0' and epoch ~= ARGV[3] then return tonumber(epoch) end
        redis.call('SET', KEYS[2], ARGV[2])
        redis.call('ZADD', KEYS[1], ARGV[1], ARGV[1])
        return -1
        """;

    /// <summary>
    /// Sets KEYS[1] to ARGV[3] only if it holds ARGV[2] (ARGV[1] = '1') or is absent (ARGV[1] = '0').
    /// Returns 1 when it did.
    /// </summary>
    public const string CompareAndSet = """
        local current = redis.call('GET', KEYS[1])
        if ARGV[1] == '0' then
          if current then return 0 end
        elseif current ~= ARGV[2] then
          return 0
        end
        redis.call('SET', KEYS[1], ARGV[3])
        return 1
        """;

    public static readonly string[] All = [Index, Commit, Prune, Read, DropIndex, AppendLog, CompareAndSet];
}
