using System.Runtime.CompilerServices;
using Leasehold.Runtime.Storage;
using RocksDbSharp;

namespace Leasehold.Storage.RocksDb;

/// <summary>
/// The embedded default store: one RocksDB directory, no server. Versions and the write index go in
/// unsynced writes; the batch log and the commit records go in one synced write per call
/// (<see cref="WriteLogAsync"/>), and since RocksDB's write-ahead log is sequential, syncing it makes every
/// earlier write durable too: one fsync per group commit, not one per worker. Conditional records are synced
/// when written. One process owns the directory (RocksDB's LOCK file enforces it), so the commit order,
/// the epoch fence and the conditional records are guarded by locks in this process.
/// </summary>
public sealed partial class RocksDbStateStore : IStateStore, ISyncCounter
{
    private readonly RocksDbSharp.RocksDb _db;
    private readonly WriteOptions _synced = new WriteOptions().SetSync(true);
    private readonly WriteOptions _unsynced = new WriteOptions().SetSync(false);

    // Three locks, taken in this order and never the other way. None of the last two is held across a synced
    // write, so readers and workers' version writes never wait for an fsync behind them.
    // _durable serializes the synced writes (log, commits, claims, conditional records, load, discard): it is
    // held across the sync, which is what keeps commits in batch order and the epoch fence atomic with them.
    private readonly Lock _durable = new();
    // _sealing: a version write holds it shared while it checks its batch and writes; a commit takes it
    // exclusively only to raise _sealedThrough, so once the commit plans its write no version of a batch it
    // commits can still be on its way in (a write that checked before the seal has finished).
    private readonly ReaderWriterLockSlim _sealing = new(LockRecursionPolicy.NoRecursion);
    // _lock guards the in-memory maps, _lastCommitted's changes and the point reads (see ReadCommittedAsync).
    private readonly Lock _lock = new();

    // Objects written by each uncommitted batch in this process, and the batch of each object's newest
    // committed version: at commit the superseded version is removed with a point delete. (Range deletes
    // per key were simpler, but thousands of range tombstones a batch made every read slow: 0.1× memory.)
    private readonly Dictionary<long, Dictionary<StateKey, byte[]>> _written = [];
    // The write index entries each uncommitted batch wrote in this process, removed by point deletes at its
    // commit. No write of this store uses a range delete: a range tombstone in the memtable is re-fragmented by
    // every read (a DeleteRange of the index per commit cost ~16 % of the CPU in reads).
    private readonly Dictionary<long, List<byte[]>> _indexEntries = [];
    private readonly Dictionary<StateKey, long> _newestCommitted = [];
    // The version keys the last commit superseded, point-deleted by the next commit's write (or at close); under _durable.
    private List<byte[]> _superseded = [];
    private long _lastCommitted;
    // The highest batch committed or being committed: version writes at or below it are refused. Under _sealing.
    private long _sealedThrough;
    // One process at a time holds the database (RocksDB's LOCK file), so the epoch is checked from memory, under _durable.
    private long _epoch;
    private long _nextWriteId;
    private long _syncedWrites;
    private bool _disposed;

    private RocksDbStateStore(RocksDbSharp.RocksDb db, string path)
    {
        _db = db;
        Path = path;
        var commit = _db.Get(RocksKeys.CommitKey);
        _lastCommitted = commit is null ? 0 : RocksKeys.NumberAt(commit, 0);
        _sealedThrough = _lastCommitted;
        _epoch = _db.Get(RocksKeys.EpochKey) is { Length: 8 } epoch ? BitConverter.ToInt64(epoch) : 0;
        // Write ids only need to be unique per batch; continue after any index entry a previous process left.
        using var it = _db.NewIterator();
        for (it.Seek([RocksKeys.WriteIndex]); it.Valid() && it.GetKeySpan()[0] == RocksKeys.WriteIndex; it.Next())
            _nextWriteId = Math.Max(_nextWriteId, RocksKeys.NumberAt(it.GetKeySpan(), 9) + 1);
    }

    public string Name => "rocksdb";

    public string Path { get; }

    /// <summary>
    /// Opens (or creates) a store in <paramref name="path"/>. Refuses, naming the cause, a directory that
    /// holds other files, a RocksDB database that is not a Leasehold store, one of another format version,
    /// a corrupted one, or one another process has open; nothing in it is changed then.
    /// </summary>
    public static RocksDbStateStore Open(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (File.Exists(full)) throw new StoreUnavailableException($"rocksdb: '{path}' is a file, not a directory");
        bool exists = Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any();
        if (exists && !File.Exists(System.IO.Path.Combine(full, "CURRENT")))
            throw new StoreUnavailableException($"rocksdb: '{path}' is not empty and holds no RocksDB database (no CURRENT file); refusing to create a store among other files");
        RocksDbSharp.RocksDb db;
        try
        {
            Directory.CreateDirectory(full);
            var options = new DbOptions()
                .SetCreateIfMissing(!exists)
                .SetParanoidChecks(true)
                .IncreaseParallelism(2)
                // A writer waiting to join a write group parks instead of spinning with sched_yield: on a few cores the
                // spin took the CPU the engine needed (14 % of samples were sched_yield under the bench).
                .SetEnableWriteThreadAdaptiveYield(false);
            db = RocksDbSharp.RocksDb.Open(options, full);
        }
        catch (RocksDbException e)
        {
            string why = e.Message.Contains("lock", StringComparison.OrdinalIgnoreCase) ? "it is open in another process" :
                e.Message.Contains("Corruption", StringComparison.OrdinalIgnoreCase) ? "its files are corrupted" : "RocksDB could not open it";
            throw new StoreUnavailableException($"rocksdb: cannot open '{path}': {why} ({e.Message.Trim()})", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreUnavailableException($"rocksdb: cannot use '{path}': {e.Message}", e);
        }
        try
        {
            var format = db.Get(RocksKeys.FormatKey);
            if (format is null)
            {
                using var it = db.NewIterator();
                it.SeekToFirst();
                if (it.Valid()) throw new StoreUnavailableException($"rocksdb: '{path}' is a RocksDB database, but not a Leasehold store (no format marker); refusing to write into it");
                db.Put(RocksKeys.FormatKey, RocksKeys.FormatValue, writeOptions: new WriteOptions().SetSync(true));
            }
            else if (!format.AsSpan().SequenceEqual(RocksKeys.FormatValue))
                throw new StoreUnavailableException($"rocksdb: '{path}' holds a store of format '{System.Text.Encoding.UTF8.GetString(format)}'; this build reads '{System.Text.Encoding.UTF8.GetString(RocksKeys.FormatValue)}'");
            return new RocksDbStateStore(db, full);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>Writes made with sync=true since the store opened (each one fdatasync of RocksDB's log).</summary>
    public long SyncedWrites => Interlocked.Read(ref _syncedWrites);

    public ValueTask LoadAsync(IEnumerable<KeyValuePair<StateKey, byte[]>> objects, CancellationToken cancellation = default)
    {
        lock (_durable)
        {
            ThrowIfDisposed();
            if (_lastCommitted > 0) throw new StoreConflictException($"rocksdb: the store has committed batches up to {_lastCommitted}; initial state loads only into a fresh store");
            var loaded = new List<StateKey>();
            var batch = new WriteBatch();
            foreach (var (key, value) in objects)
            {
                cancellation.ThrowIfCancellationRequested();
                batch.Put(RocksKeys.VersionKey(RocksKeys.ObjectPrefix(key), 0), TaggedValue.Encode(value));
                loaded.Add(key);
                if (batch.Count() >= 10_000)
                {
                    _db.Write(batch, _unsynced);
                    batch.Dispose();
                    batch = new WriteBatch();
                }
            }
            WriteSynced(batch); // the last write syncs the log, and with it every earlier one
            batch.Dispose();
            // Only now: a point read trusts this map to name a version that is there.
            lock (_lock)
                foreach (var key in loaded) _newestCommitted[key] = 0;
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask WriteVersionsAsync(long batch, IReadOnlyList<KeyValuePair<StateKey, byte[]?>> writes, CancellationToken cancellation = default)
    {
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batches are numbered from 1");
        var prefixes = new List<byte[]>(writes.Count);
        using var wb = new WriteBatch();
        foreach (var (key, value) in writes)
        {
            var prefix = RocksKeys.ObjectPrefix(key);
            prefixes.Add(prefix);
            wb.Put(RocksKeys.VersionKey(prefix, batch), TaggedValue.Encode(value));
        }
        // The write index entry goes in the same atomic write as the versions it names.
        var indexEntry = RocksKeys.Numbered(RocksKeys.WriteIndex, batch, Interlocked.Increment(ref _nextWriteId) - 1);
        wb.Put(indexEntry, RocksKeys.EncodePrefixes(prefixes));
        _sealing.EnterReadLock();
        try
        {
            ThrowIfDisposed();
            if (batch <= _sealedThrough) throw new StoreConflictException($"rocksdb: batch {batch} is already committed (or being committed); its versions cannot change");
            // Unsynced, and outside _lock: RocksDB may queue it behind a commit's sync, and readers must not wait for that.
            _db.Write(wb, _unsynced);
            lock (_lock)
            {
                if (!_written.TryGetValue(batch, out var written)) _written[batch] = written = [];
                for (int i = 0; i < writes.Count; i++) written[writes[i].Key] = prefixes[i];
                if (!_indexEntries.TryGetValue(batch, out var entries)) _indexEntries[batch] = entries = [];
                entries.Add(indexEntry);
            }
        }
        finally
        {
            _sealing.ExitReadLock();
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask CommitAsync(long batch, CancellationToken cancellation = default) => CommitAsync(batch, 0, cancellation);

    public ValueTask CommitAsync(long batch, long epoch, CancellationToken cancellation = default) => WriteLogAsync([], batch, batch, epoch, cancellation);

    public ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, CancellationToken cancellation = default) =>
        AppendBatchInputAsync(batch, input, 0, cancellation);

    public ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, long epoch, CancellationToken cancellation = default) =>
        WriteLogAsync([new(batch, input)], 1, 0, epoch, cancellation);

    /// <summary>
    /// The inputs' log entries and the commit records of <paramref name="commitFrom"/>..<paramref name="commitThrough"/>
    /// in one synced write: all of it or (on a refusal or a failed write) none of it. It is done when it returns:
    /// the calling thread waits through the fsync, so a caller that must not block (a mailbox) calls it from another thread.
    /// </summary>
    public ValueTask WriteLogAsync(IReadOnlyList<KeyValuePair<long, ReadOnlyMemory<byte>>> inputs, long commitFrom, long commitThrough, long epoch, CancellationToken cancellation = default)
    {
        bool commits = commitThrough >= commitFrom;
        if (inputs.Count == 0 && !commits) return ValueTask.CompletedTask;
        lock (_durable)
        {
            ThrowIfDisposed();
            CheckEpoch(epoch);
            if (commits && commitFrom != _lastCommitted + 1)
                throw new StoreConflictException($"rocksdb: commit records go in batch order: expected {_lastCommitted + 1}, got {commitFrom}");
            using var wb = new WriteBatch();
            foreach (var (batch, input) in inputs) wb.Put(RocksKeys.Numbered(RocksKeys.Log, batch), input.ToArray());
            if (!commits)
            {
                WriteSynced(wb);
                return ValueTask.CompletedTask;
            }
            Seal(commitThrough);
            List<byte[]> superseded;
            try
            {
                superseded = PlanCommit(wb, commitFrom, commitThrough);
                WriteSynced(wb);
            }
            catch
            {
                Seal(_lastCommitted); // nothing of it was applied: the batches are open again
                throw;
            }
            lock (_lock)
            {
                for (long batch = commitFrom; batch <= commitThrough; batch++) // in order: a later batch's version wins
                {
                    _indexEntries.Remove(batch);
                    if (_written.Remove(batch, out var written))
                        foreach (var key in written.Keys) _newestCommitted[key] = batch;
                }
                Volatile.Write(ref _lastCommitted, commitThrough);
            }
            _superseded = superseded;
        }
        return ValueTask.CompletedTask;
    }

    private void Seal(long through)
    {
        _sealing.EnterWriteLock();
        _sealedThrough = through;
        _sealing.ExitWriteLock();
    }

    /// <summary>
    /// Adds to <paramref name="wb"/> the commit record of <paramref name="through"/>, the removal of the range's
    /// write index and log entries, and the deletion of what the previous commit superseded. Returns what the
    /// range supersedes, for the next commit to delete.
    /// </summary>
    private List<byte[]> PlanCommit(WriteBatch wb, long from, long through)
    {
        wb.Put(RocksKeys.CommitKey, RocksKeys.Numbered(RocksKeys.Commit, through)[1..]);
        for (long batch = from; batch <= through; batch++) wb.Delete(RocksKeys.Numbered(RocksKeys.Log, batch)); // recovery re-executes only uncommitted batches
        foreach (var old in _superseded) wb.Delete(old);

        lock (_lock) // the maps change under _lock (readers remember what they found); this range's batches are sealed
        {
            int objects = 0;
            for (long batch = from; batch <= through; batch++) objects += _written.TryGetValue(batch, out var written) ? written.Count : 0;
            var superseded = new List<byte[]>(objects);
            for (long batch = from; batch <= through; batch++)
            {
                // Index entries of a batch another process wrote are gone already: recovery discards them before it re-executes.
                if (_indexEntries.TryGetValue(batch, out var entries))
                    foreach (var entry in entries) wb.Delete(entry);
                if (!_written.TryGetValue(batch, out var written)) continue;
                foreach (var (key, prefix) in written)
                {
                    if (NewestBefore(key, from, batch) is long previous) superseded.Add(RocksKeys.VersionKey(prefix, previous));
                    else OlderVersions(prefix, batch, superseded); // not seen since this process opened the store
                }
            }
            return superseded;
        }
    }

    /// <summary>Every stored version of an object below <paramref name="batch"/>, one point delete each (found once per object and process).</summary>
    private void OlderVersions(byte[] objectPrefix, long batch, List<byte[]> into)
    {
        var upTo = RocksKeys.VersionKey(objectPrefix, batch);
        using var it = _db.NewIterator(readOptions: new ReadOptions().SetIterateUpperBound(upTo));
        for (it.Seek(RocksKeys.VersionKey(objectPrefix, 0)); it.Valid(); it.Next())
            into.Add(it.Key());
    }

    /// <summary>The batch of the newest version of <paramref name="key"/> below <paramref name="batch"/>: in the range being committed, else committed; null when this process has not seen it.</summary>
    private long? NewestBefore(StateKey key, long from, long batch)
    {
        for (long b = batch - 1; b >= from; b--)
            if (_written.TryGetValue(b, out var written) && written.ContainsKey(key)) return b;
        return _newestCommitted.TryGetValue(key, out long committed) ? committed : null;
    }

    private void WriteSynced(WriteBatch wb)
    {
        BeforeSyncedWrite?.Invoke();
        _db.Write(wb, _synced);
        Interlocked.Increment(ref _syncedWrites);
    }

    public ValueTask<long> ClaimAsync(CancellationToken cancellation = default)
    {
        lock (_durable)
        {
            ThrowIfDisposed();
            using var wb = new WriteBatch();
            wb.Put(RocksKeys.EpochKey, BitConverter.GetBytes(_epoch + 1));
            WriteSynced(wb);
            return ValueTask.FromResult(++_epoch);
        }
    }

    private void CheckEpoch(long epoch)
    {
        if (epoch != 0 && epoch != _epoch) throw new StoreFencedException($"rocksdb: the store was claimed by epoch {_epoch}; this owner holds epoch {epoch}");
    }

    /// <summary>
    /// A point read of the newest committed version when this process knows its batch, else a seek (remembered).
    /// Why the version a reader looks up is still there when it reads it: a commit never deletes what it
    /// supersedes in its own write but in the next commit's. Say the reader finds batch v for the key under
    /// _lock. Version v is deleted only by the write of the commit after the one that superseded it (some c > v
    /// that wrote the key); that write starts after commit c has updated the maps under _lock; and commit c
    /// had not done so when the reader looked (it would have found c). The reader holds _lock through its
    /// Get, so commit c cannot update the maps and the deleting write cannot start before the Get is done.
    /// A seek is safe the same way: its snapshot is taken under _lock with _lastCommitted = L, and a newest
    /// version at or below L is deleted only after a commit above L has updated the maps.
    /// </summary>
    public ValueTask<byte[]?> ReadCommittedAsync(StateKey key, CancellationToken cancellation = default)
    {
        var prefix = RocksKeys.ObjectPrefix(key);
        Iterator it;
        long last;
        lock (_lock)
        {
            ThrowIfDisposed();
            if (_newestCommitted.TryGetValue(key, out long newest))
            {
                BetweenLookupAndGet?.Invoke(key);
                var stored = _db.Get(RocksKeys.VersionKey(prefix, newest))
                    ?? throw new InvalidOperationException($"rocksdb: the newest committed version of {key} (batch {newest}) is missing from the store");
                return ValueTask.FromResult(TaggedValue.Decode(stored));
            }
            last = _lastCommitted;
            it = _db.NewIterator();
        }
        using (it)
        {
            it.SeekForPrev(RocksKeys.VersionKey(prefix, last));
            if (!it.Valid()) return ValueTask.FromResult<byte[]?>(null);
            var found = it.GetKeySpan();
            if (found.Length != prefix.Length + 8 || !found.StartsWith(prefix)) return ValueTask.FromResult<byte[]?>(null);
            // Only if no commit has named a newer one since: a commit's map update overwrites, a reader's never does.
            lock (_lock) _newestCommitted.TryAdd(key, RocksKeys.BatchOfVersion(found));
            return ValueTask.FromResult(TaggedValue.Decode(it.GetValueSpan()));
        }
    }

    public ValueTask<long> LastCommittedAsync(CancellationToken cancellation = default) => ValueTask.FromResult(Volatile.Read(ref _lastCommitted));

    public async IAsyncEnumerable<KeyValuePair<string, byte[]>> ScanCommittedAsync(string table, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        var tablePrefix = RocksKeys.TablePrefix(table);
        var rows = new List<KeyValuePair<string, byte[]>>();
        long last;
        Iterator it;
        lock (_lock) // the snapshot and the batch it reads at, together (see ReadCommittedAsync)
        {
            ThrowIfDisposed();
            last = _lastCommitted;
            it = _db.NewIterator(readOptions: new ReadOptions().SetIterateUpperBound(RocksKeys.UpperBound(tablePrefix)));
        }
        using (it)
        {
            // Versions of one object are adjacent, oldest first: keep the newest committed one of each run.
            byte[]? current = null;
            byte[]? newest = null;
            for (it.Seek(tablePrefix); it.Valid(); it.Next())
            {
                cancellation.ThrowIfCancellationRequested();
                var k = it.GetKeySpan();
                int objectLength = RocksKeys.ObjectPrefixLength(k);
                if (current is null || !k[..objectLength].SequenceEqual(current))
                {
                    Flush();
                    current = k[..objectLength].ToArray();
                    newest = null;
                }
                if (RocksKeys.BatchOfVersion(k) <= last) newest = it.GetValueSpan().ToArray();
            }
            Flush();

            void Flush()
            {
                if (current is not null && newest is not null && TaggedValue.Decode(newest) is { } value)
                    rows.Add(new(RocksKeys.ObjectKeyOf(RocksKeys.VersionKey(current, 0)), value));
            }
        }
        rows.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key)); // the layout orders by key length first
        foreach (var row in rows) yield return row;
        await Task.CompletedTask;
    }

    public async IAsyncEnumerable<KeyValuePair<long, byte[]>> ReadBatchInputsAsync(long after, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        var entries = new List<KeyValuePair<long, byte[]>>();
        lock (_lock) ThrowIfDisposed();
        using (var it = _db.NewIterator(readOptions: new ReadOptions().SetIterateUpperBound([RocksKeys.Log + 1])))
            for (it.Seek(RocksKeys.Numbered(RocksKeys.Log, after + 1)); it.Valid(); it.Next())
                entries.Add(new(RocksKeys.NumberAt(it.GetKeySpan(), 1), it.Value()));
        foreach (var e in entries)
        {
            cancellation.ThrowIfCancellationRequested();
            yield return e;
        }
        await Task.CompletedTask;
    }

    /// <summary>Recovery's path: it keeps version writes out (holding _sealing) across its sync, readers not.</summary>
    public ValueTask<long> DiscardUncommittedAsync(CancellationToken cancellation = default)
    {
        long removed = 0;
        lock (_durable)
        {
            _sealing.EnterWriteLock();
            try
            {
                ThrowIfDisposed();
                using var wb = new WriteBatch();
                using (var it = _db.NewIterator(readOptions: new ReadOptions().SetIterateUpperBound([RocksKeys.WriteIndex + 1])))
                    for (it.Seek(RocksKeys.Numbered(RocksKeys.WriteIndex, _lastCommitted + 1, 0)); it.Valid(); it.Next())
                    {
                        long batch = RocksKeys.NumberAt(it.GetKeySpan(), 1);
                        foreach (var prefix in RocksKeys.DecodePrefixes(it.GetValueSpan()))
                        {
                            var version = RocksKeys.VersionKey(prefix, batch);
                            if (_db.Get(version) is not null) removed++;
                            wb.Delete(version);
                        }
                        wb.Delete(it.Key());
                    }
                WriteSynced(wb);
                lock (_lock)
                {
                    foreach (var batch in _written.Keys.Where(b => b > _lastCommitted).ToList()) _written.Remove(batch);
                    foreach (var batch in _indexEntries.Keys.Where(b => b > _lastCommitted).ToList()) _indexEntries.Remove(batch);
                }
            }
            finally
            {
                _sealing.ExitWriteLock();
            }
        }
        return ValueTask.FromResult(removed);
    }

    public ValueTask<bool> CompareAndSetAsync(string name, byte[]? expected, byte[] value, CancellationToken cancellation = default)
    {
        lock (_durable)
        {
            ThrowIfDisposed();
            var key = RocksKeys.RecordKey(name);
            if (!Leasehold.Value.SameBytes(_db.Get(key), expected)) return ValueTask.FromResult(false);
            using var wb = new WriteBatch();
            wb.Put(key, value);
            WriteSynced(wb);
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask<byte[]?> ReadRecordAsync(string name, CancellationToken cancellation = default)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            return ValueTask.FromResult<byte[]?>(_db.Get(RocksKeys.RecordKey(name)));
        }
    }

    // Set holding all three locks, so reading it under any one of them is enough.
    private void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException(nameof(RocksDbStateStore), "the rocksdb store is closed");
    }

    public ValueTask DisposeAsync()
    {
        lock (_durable)
        {
            _sealing.EnterWriteLock();
            try
            {
                lock (_lock)
                {
                    if (_disposed) return ValueTask.CompletedTask;
                    _disposed = true;
                    DeleteSupersededAtClose();
                    _db.Dispose();
                }
            }
            finally
            {
                _sealing.ExitWriteLock();
            }
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The last commit's superseded versions, which no later commit will delete now. Unsynced and best effort:
    /// if they are lost (a crash, a full disk) an old version stays behind, which no read returns: a newer
    /// committed version of the object exists.
    /// </summary>
    private void DeleteSupersededAtClose()
    {
        if (_superseded.Count == 0) return;
        try
        {
            using var wb = new WriteBatch();
            foreach (var old in _superseded) wb.Delete(old);
            _db.Write(wb, _unsynced);
        }
        catch (RocksDbException)
        {
            // Closing must not fail over garbage: see above.
        }
    }
}
