using System.Runtime.CompilerServices;
using Leasehold.Runtime.Storage;
using StackExchange.Redis;

namespace Leasehold.Storage.Redis;

/// <summary>
/// The store for when users outgrow one machine: a Redis Cluster (layout in <see cref="RedisKeys"/>).
/// Versions are spread over every slot, one hash per object, so a batch is never forced onto one master;
/// the commit record is one key, advanced by a Lua script that lets only last + 1 commit, and it is the
/// one atomic point: a reader takes the newest version at or below it, so versions of uncommitted batches
/// (b and b+1 may both have written a key) are invisible wherever they landed.
/// <para>
/// What is atomic: the commit record; one object's version (a hash field); a batch's write index together
/// with the check that the batch is not committed (one script on the metadata slot); a conditional record;
/// a log entry. What is not: the versions of one WriteVersions call (they span masters; a crash can leave
/// some written, which is harmless because the write index was recorded first and names all of them).
/// </para>
/// <para>
/// Across processes: commit order and conditional records are enforced by the server. WriteVersions for a
/// committed batch is refused against the real commit record, atomically with its index entry; but versions
/// still in flight when another process commits their batch can land after the commit (the protocol
/// commits only after every worker's write returned, so this needs a caller that breaks it).
/// DiscardUncommitted assumes no batch commits or writes while it runs, as in recovery.
/// </para>
/// <para>
/// Durability: each node must run appendonly yes (refused otherwise); appendfsync always makes a reply mean
/// fsynced, anything else is reported in <see cref="DurabilityWarning"/>. Redis replication is
/// asynchronous: a master can acknowledge a commit and fail before its replica has it, and a failover then
/// loses that acknowledged write. Run without replicas, or accept that window (WAIT would narrow, not close it).
/// </para>
/// <para>
/// Group commit (<see cref="IStateStore.WriteLogAsync"/>) keeps the interface's default, the single calls in
/// order, so one fsync each under appendfsync always. The log and the commit record share the metadata slot,
/// so one script could carry both in one fsync; not done yet.
/// </para>
/// </summary>
public sealed class RedisStateStore : IStateStore
{
    /// <summary>Commands per pipeline when a call writes or reads many keys.</summary>
    private const int Chunk = 1000;

    private readonly ConnectionMultiplexer _connection;
    private readonly IDatabase _db;
    private readonly RedisKeys _keys;
    // The commit record as this process last saw it (it only grows): refuses writes to committed batches
    // without a round trip, though the server checks again.
    private long _lastCommitted;
    // The pruning after the last commit, run in the background so a commit costs one round trip; the
    // next commit waits for it, so at most one batch of superseded versions is pending.
    private Task _pruning = Task.CompletedTask;
    private readonly Lock _pruneLock = new();
    private long _pruneFailures;
    private int _disposed;

    private RedisStateStore(ConnectionMultiplexer connection, RedisKeys keys, string endpoints, string? durabilityWarning, long lastCommitted)
    {
        _connection = connection;
        _db = connection.GetDatabase();
        _keys = keys;
        Endpoints = endpoints;
        DurabilityWarning = durabilityWarning;
        _lastCommitted = lastCommitted;
    }

    public string Name => "redis";

    public string Endpoints { get; }

    public string Keyspace => _keys.Keyspace;

    /// <summary>Why acknowledged commits might not survive a node crash (appendfsync not always, settings unreadable); null when they do.</summary>
    public string? DurabilityWarning { get; }

    /// <summary>Prunes that failed (the cluster was unreachable): they leave superseded versions behind, never wrong data.</summary>
    public long PruneFailures => Interlocked.Read(ref _pruneFailures);

    internal IConnectionMultiplexer Connection => _connection;

    internal RedisKeys Keys => _keys;

    /// <summary>
    /// Connects to the cluster at <paramref name="endpoints"/> ("host:port,host:port"; one reachable node is
    /// enough, the others are discovered) and opens the store named <paramref name="keyspace"/> in it. Fails
    /// with a <see cref="StoreUnavailableException"/> within about 3 s for an unreachable or malformed
    /// endpoint, a node not in cluster mode, an unhealthy cluster, a node without the append-only file, or a
    /// keyspace that holds another format.
    /// </summary>
    public static async Task<RedisStateStore> OpenAsync(string endpoints, string keyspace = "leasehold")
    {
        var keys = new RedisKeys(keyspace);
        var (connection, warning) = await RedisConnection.ConnectAsync(endpoints);
        try
        {
            var db = connection.GetDatabase();
            if (!await db.StringSetAsync(keys.Format, RedisKeys.FormatValue, when: When.NotExists))
            {
                string? format = await db.StringGetAsync(keys.Format);
                if (format != RedisKeys.FormatValue)
                    throw new StoreUnavailableException($"redis: keyspace '{keyspace}' at {endpoints} holds a store of format '{format}'; this build reads '{RedisKeys.FormatValue}'");
            }
            // Loaded scripts let every later call go as EVALSHA (the client remembers the hashes).
            await Task.WhenAll(connection.GetServers().Where(s => s.IsConnected && !s.IsReplica)
                .SelectMany(server => RedisScripts.All.Select(script => server.ScriptLoadAsync(script))));
            long last = ParseBatch(await db.StringGetAsync(keys.Commit));
            return new RedisStateStore(connection, keys, endpoints, warning, last);
        }
        catch (Exception e)
        {
            connection.Dispose();
            if (IsUnavailable(e)) throw Failed($"opening keyspace '{keyspace}' at {endpoints}", e);
            throw;
        }
    }

    public async ValueTask LoadAsync(IEnumerable<KeyValuePair<StateKey, byte[]>> objects, CancellationToken cancellation = default)
    {
        ThrowIfDisposed();
        try
        {
            long last = await ReadCommitRecordAsync();
            if (last > 0) throw new StoreConflictException($"redis: the store has committed batches up to {last}; initial state loads only into a fresh store");
            RedisValue field = RedisKeys.Field(0);
            var chunk = new List<KeyValuePair<StateKey, byte[]>>(Chunk);
            foreach (var obj in objects)
            {
                chunk.Add(obj);
                if (chunk.Count < Chunk) continue;
                cancellation.ThrowIfCancellationRequested();
                await WriteChunkAsync(chunk);
                chunk.Clear();
            }
            await WriteChunkAsync(chunk);

            Task WriteChunkAsync(List<KeyValuePair<StateKey, byte[]>> items)
            {
                var pipeline = _db.CreateBatch();
                var pending = items.Select(i => pipeline.HashSetAsync(_keys.Version(i.Key), field, TaggedValue.Encode(i.Value))).ToArray();
                pipeline.Execute();
                return Task.WhenAll(pending);
            }
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw Unavailable("loading the initial state", e);
        }
    }

    /// <summary>
    /// Two round trips: the write index entry (with the committed check) first, then every version in one
    /// pipeline over the masters. The index must be durable before any version it names, or a crash between
    /// would leave versions that recovery cannot find and a later commit of the same batch would expose.
    /// </summary>
    public async ValueTask WriteVersionsAsync(long batch, IReadOnlyList<KeyValuePair<StateKey, byte[]?>> writes, CancellationToken cancellation = default)
    {
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batches are numbered from 1");
        ThrowIfDisposed();
        cancellation.ThrowIfCancellationRequested();
        long known = Volatile.Read(ref _lastCommitted);
        if (batch <= known) throw AlreadyCommitted(batch, known);
        var versionKeys = new RedisKey[writes.Count];
        var indexArgs = new RedisValue[writes.Count + 1];
        indexArgs[0] = RedisKeys.Field(batch);
        for (int i = 0; i < writes.Count; i++)
        {
            string key = _keys.Version(writes[i].Key);
            versionKeys[i] = key;
            indexArgs[i + 1] = key;
        }
        try
        {
            long committed = (long)await _db.ScriptEvaluateAsync(RedisScripts.Index, [_keys.Commit, _keys.IndexedBatches, _keys.Index(batch)], indexArgs);
            if (committed >= 0)
            {
                Advance(committed);
                throw AlreadyCommitted(batch, committed);
            }
            if (writes.Count == 0) return;
            var pipeline = _db.CreateBatch();
            var pending = new Task[writes.Count];
            for (int i = 0; i < writes.Count; i++)
                pending[i] = pipeline.HashSetAsync(versionKeys[i], indexArgs[0], TaggedValue.Encode(writes[i].Value));
            pipeline.Execute();
            await Task.WhenAll(pending);
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw Unavailable($"writing the versions of batch {batch}", e);
        }
    }

    /// <summary>
    /// One round trip: the commit script (record, then the batch's index dropped). The versions the batch
    /// superseded are pruned afterwards, in the background; a crash before that leaves them behind, harmless
    /// (never read, and removed when the object is next committed).
    /// </summary>
    public ValueTask CommitAsync(long batch, CancellationToken cancellation = default) => CommitAsync(batch, 0, cancellation);

    public async ValueTask<long> ClaimAsync(CancellationToken cancellation = default)
    {
        ThrowIfDisposed();
        try
        {
            return await _db.StringIncrementAsync(_keys.Epoch);
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw Unavailable("claiming the store", e);
        }
    }

    public async ValueTask CommitAsync(long batch, long epoch, CancellationToken cancellation = default)
    {
        ThrowIfDisposed();
        await _pruning;
        RedisResult[] result;
        try
        {
            result = (RedisResult[])(await _db.ScriptEvaluateAsync(RedisScripts.Commit, [_keys.Commit, _keys.IndexedBatches, _keys.Index(batch), _keys.LoggedBatches, _keys.Log(batch), _keys.Epoch], [RedisKeys.Field(batch), epoch]))!;
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw Unavailable($"writing the commit record of batch {batch} (it may or may not have been written: LastCommittedAsync tells)", e);
        }
        long status = (long)result[0];
        if (status == -2) throw new StoreFencedException($"redis: the store was claimed by epoch {(long)result[1]}; this owner holds epoch {epoch}");
        if (status != -1)
        {
            Advance(status);
            throw new StoreConflictException($"redis: commit records go in batch order: expected {status + 1}, got {batch}");
        }
        Advance(batch);
        var written = (RedisResult[])result[1]!;
        if (written.Length == 0) return;
        var pruning = PruneAsync(batch, written);
        lock (_pruneLock) _pruning = _pruning.IsCompleted ? pruning : Task.WhenAll(_pruning, pruning);
    }

    private async Task PruneAsync(long batch, RedisResult[] written)
    {
        try
        {
            RedisValue[] args = [RedisKeys.Field(batch)];
            for (int from = 0; from < written.Length; from += Chunk)
            {
                var pipeline = _db.CreateBatch();
                var pending = written.Skip(from).Take(Chunk)
                    .Select(w => pipeline.ScriptEvaluateAsync(RedisScripts.Prune, [(RedisKey)(byte[])w!], args)).ToArray();
                pipeline.Execute();
                await Task.WhenAll(pending);
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Interlocked.Increment(ref _pruneFailures);
        }
    }

    public async ValueTask<byte[]?> ReadCommittedAsync(StateKey key, CancellationToken cancellation = default)
    {
        ThrowIfDisposed();
        try
        {
            return await ReadAtAsync(_keys.Version(key), await ReadCommitRecordAsync());
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw Unavailable($"reading {key}", e);
        }
    }

    /// <summary>
    /// The newest version at or below <paramref name="last"/>. A commit after <paramref name="last"/> was read
    /// may have pruned that version; the script then names the oldest newer one, and if the commit record
    /// has meanwhile reached it, the read is repeated as of the new record.
    /// </summary>
    internal async Task<byte[]?> ReadAtAsync(RedisKey versionKey, long last)
    {
        while (true)
        {
            var found = (RedisResult[])(await _db.ScriptEvaluateAsync(RedisScripts.Read, [versionKey], [RedisKeys.Field(last)]))!;
            if (found.Length == 2) return TaggedValue.Decode((byte[])found[1]!);
            if (found.Length == 0) return null;
            long fresh = await ReadCommitRecordAsync();
            if ((long)found[0] > fresh) return null; // only uncommitted versions there
            last = fresh;
        }
    }

    public async ValueTask<long> LastCommittedAsync(CancellationToken cancellation = default)
    {
        ThrowIfDisposed();
        try
        {
            return await ReadCommitRecordAsync();
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw Unavailable("reading the commit record", e);
        }
    }

    /// <summary>
    /// SCANs every master for the table's version keys (replicas hold copies), then reads each as of the
    /// commit record read first. For invariant checks, not the hot path; not a snapshot if batches commit meanwhile.
    /// </summary>
    public async IAsyncEnumerable<KeyValuePair<string, byte[]>> ScanCommittedAsync(string table, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        ThrowIfDisposed();
        var rows = new List<KeyValuePair<string, byte[]>>();
        try
        {
            long last = await ReadCommitRecordAsync();
            string prefix = _keys.TablePrefix(table);
            var keys = new HashSet<string>(StringComparer.Ordinal); // SCAN may return a key twice
            foreach (var server in _connection.GetServers().Where(s => !s.IsReplica))
            {
                if (!server.IsConnected) throw new StoreUnavailableException($"redis: master {server.EndPoint} does not answer; cannot scan table '{table}'");
                await foreach (var key in server.KeysAsync(database: 0, pattern: _keys.TablePattern(table), pageSize: Chunk).WithCancellation(cancellation))
                    keys.Add(key!);
            }
            foreach (var chunk in keys.Chunk(Chunk))
            {
                cancellation.ThrowIfCancellationRequested();
                var values = await Task.WhenAll(chunk.Select(k => ReadAtAsync(k, last)));
                for (int i = 0; i < chunk.Length; i++)
                    if (values[i] is { } value) rows.Add(new(RedisKeys.ObjectKeyOf(chunk[i], prefix), value));
            }
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw Unavailable($"scanning table '{table}'", e);
        }
        rows.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var row in rows) yield return row;
    }

    public ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, CancellationToken cancellation = default) =>
        AppendBatchInputAsync(batch, input, 0, cancellation);

    public async ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, long epoch, CancellationToken cancellation = default)
    {
        ThrowIfDisposed();
        try
        {
            long current = (long)(await _db.ScriptEvaluateAsync(RedisScripts.AppendLog, [_keys.LoggedBatches, _keys.Log(batch), _keys.Epoch], [RedisKeys.Field(batch), input, epoch]))!;
            if (current != -1) throw new StoreFencedException($"redis: the store was claimed by epoch {current}; this owner holds epoch {epoch}");
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw Unavailable($"logging the input of batch {batch}", e);
        }
    }

    public async IAsyncEnumerable<KeyValuePair<long, byte[]>> ReadBatchInputsAsync(long after, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        ThrowIfDisposed();
        long from = after;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            List<KeyValuePair<long, byte[]>> page = [];
            try
            {
                var batches = await _db.SortedSetRangeByScoreAsync(_keys.LoggedBatches, from, double.PositiveInfinity, Exclude.Start, skip: 0, take: 256);
                if (batches.Length == 0) yield break;
                var numbers = batches.Select(b => (long)b).ToArray();
                var inputs = await _db.StringGetAsync(numbers.Select(_keys.Log).ToArray()); // one slot: one MGET
                for (int i = 0; i < numbers.Length; i++)
                    if (inputs[i].HasValue) page.Add(new(numbers[i], (byte[])inputs[i]!));
                from = numbers[^1];
            }
            catch (Exception e) when (IsUnavailable(e))
            {
                throw Unavailable("reading the batch log", e);
            }
            foreach (var entry in page) yield return entry;
        }
    }

    /// <summary>Per uncommitted batch with an index: its versions removed (pipelined), then its index, so a crash midway leaves the index to find them again.</summary>
    public async ValueTask<long> DiscardUncommittedAsync(CancellationToken cancellation = default)
    {
        ThrowIfDisposed();
        try
        {
            long last = await ReadCommitRecordAsync();
            long removed = 0;
            foreach (var entry in await _db.SortedSetRangeByScoreAsync(_keys.IndexedBatches, last, double.PositiveInfinity, Exclude.Start))
            {
                cancellation.ThrowIfCancellationRequested();
                long batch = (long)entry;
                RedisValue field = RedisKeys.Field(batch);
                var versionKeys = await _db.SetMembersAsync(_keys.Index(batch));
                foreach (var chunk in versionKeys.Chunk(Chunk))
                {
                    var pipeline = _db.CreateBatch();
                    var pending = chunk.Select(k => pipeline.HashDeleteAsync((byte[])k!, field)).ToArray();
                    pipeline.Execute();
                    removed += (await Task.WhenAll(pending)).Count(deleted => deleted);
                }
                await _db.ScriptEvaluateAsync(RedisScripts.DropIndex, [_keys.IndexedBatches, _keys.Index(batch)], [field]);
            }
            return removed;
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw Unavailable("discarding uncommitted batches", e);
        }
    }

    public async ValueTask<bool> CompareAndSetAsync(string name, byte[]? expected, byte[] value, CancellationToken cancellation = default)
    {
        ThrowIfDisposed();
        try
        {
            var result = await _db.ScriptEvaluateAsync(RedisScripts.CompareAndSet, [_keys.Record(name)],
                [expected is null ? "0" : "1", expected ?? RedisValue.EmptyString, value]);
            return (long)result == 1;
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw Unavailable($"writing record '{name}'", e);
        }
    }

    public async ValueTask<byte[]?> ReadRecordAsync(string name, CancellationToken cancellation = default)
    {
        ThrowIfDisposed();
        try
        {
            var value = await _db.StringGetAsync(_keys.Record(name));
            return value.HasValue ? (byte[])value! : null;
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw Unavailable($"reading record '{name}'", e);
        }
    }

    /// <summary>Deletes every key of this keyspace from every master (temporary bench stores, tests).</summary>
    public async Task DropAsync()
    {
        await _pruning;
        foreach (var server in _connection.GetServers().Where(s => s.IsConnected && !s.IsReplica))
            foreach (var pattern in _keys.AllKeysPatterns)
            {
                var keys = new List<RedisKey>();
                await foreach (var key in server.KeysAsync(database: 0, pattern: pattern, pageSize: 1000)) keys.Add(key);
                await Task.WhenAll(keys.Select(k => _db.KeyDeleteAsync(k)));
            }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _pruning;
        await _connection.CloseAsync(allowCommandsToComplete: true);
        _connection.Dispose();
    }

    private async Task<long> ReadCommitRecordAsync()
    {
        long last = ParseBatch(await _db.StringGetAsync(_keys.Commit));
        Advance(last);
        return last;
    }

    private void Advance(long committed)
    {
        long seen = Volatile.Read(ref _lastCommitted);
        while (committed > seen)
        {
            long previous = Interlocked.CompareExchange(ref _lastCommitted, committed, seen);
            if (previous == seen) return;
            seen = previous;
        }
    }

    private static long ParseBatch(RedisValue record) => record.HasValue ? (long)record : 0;

    private static StoreConflictException AlreadyCommitted(long batch, long committed) =>
        new($"redis: batch {batch} is already committed (the commit record is at {committed}); its versions cannot change");

    /// <summary>Failures of the cluster rather than of the call: no connection, no reply in time, or a node refusing service.</summary>
    private static bool IsUnavailable(Exception e) => e switch
    {
        RedisConnectionException or RedisTimeoutException or TimeoutException => true,
        RedisServerException s => s.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal) || s.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
            || s.Message.StartsWith("LOADING", StringComparison.Ordinal) || s.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
            || s.Message.StartsWith("MISCONF", StringComparison.Ordinal) || s.Message.StartsWith("READONLY", StringComparison.Ordinal)
            || s.Message.StartsWith("OOM", StringComparison.Ordinal),
        _ => false,
    };

    private StoreUnavailableException Unavailable(string what, Exception e) => Failed($"{what} at {Endpoints}", e);

    private static StoreUnavailableException Failed(string what, Exception e) => new($"redis: {what} failed: {e.Message}", e);

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
