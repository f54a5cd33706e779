using System.Runtime.CompilerServices;
using Leasehold.Runtime.Storage;
using RocksDbSharp;

namespace Leasehold.Storage.RocksDb;

/// <summary>
/// The embedded default store: one RocksDB directory, no server. Versions and the write index go in
/// unsynced writes; the commit record is one small synced write, and since RocksDB's write-ahead log is
/// sequential, syncing it makes every earlier write durable too: one fsync per batch, not one per worker.
/// The batch log and conditional records are synced when written (they must be durable before anything
/// acts on them). One process owns the directory (RocksDB's LOCK file enforces it), so the commit order
/// and the conditional records are guarded by a lock in this process.
/// </summary>
public sealed class RocksDbStateStore : IStateStore
{
    private readonly RocksDbSharp.RocksDb _db;
    private readonly WriteOptions _synced = new WriteOptions().SetSync(true);
    private readonly WriteOptions _unsynced = new WriteOptions().SetSync(false);
    private readonly Lock _lock = new();
    // Objects written by each uncommitted batch in this process, and the batch of each object's newest
    // committed version: at commit the superseded version is removed with a point delete. (Range deletes
    // per key were simpler, but thousands of range tombstones a batch made every read slow: 0.1× memory.)
    private readonly Dictionary<long, Dictionary<StateKey, byte[]>> _written = [];
    private readonly Dictionary<StateKey, long> _newestCommitted = [];
    private long _lastCommitted;
    // One process at a time holds the database (RocksDB's LOCK file), so the epoch is checked from memory.
    private long _epoch;
    private long _nextWriteId;
    private bool _disposed;

    private RocksDbStateStore(RocksDbSharp.RocksDb db, string path)
    {
        _db = db;
        Path = path;
        var commit = _db.Get(RocksKeys.CommitKey);
        _lastCommitted = commit is null ? 0 : RocksKeys.NumberAt(commit, 0);
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
                .IncreaseParallelism(2);
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

    public ValueTask LoadAsync(IEnumerable<KeyValuePair<StateKey, byte[]>> objects, CancellationToken cancellation = default)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            if (_lastCommitted > 0) throw new StoreConflictException($"rocksdb: the store has committed batches up to {_lastCommitted}; initial state loads only into a fresh store");
            var batch = new WriteBatch();
            foreach (var (key, value) in objects)
            {
                cancellation.ThrowIfCancellationRequested();
                batch.Put(RocksKeys.VersionKey(RocksKeys.ObjectPrefix(key), 0), TaggedValue.Encode(value));
                _newestCommitted[key] = 0;
                if (batch.Count() >= 10_000)
                {
                    _db.Write(batch, _unsynced);
                    batch.Dispose();
                    batch = new WriteBatch();
                }
            }
            _db.Write(batch, _synced); // the last write syncs the log, and with it every earlier one
            batch.Dispose();
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
        lock (_lock)
        {
            ThrowIfDisposed();
            if (batch <= _lastCommitted) throw new StoreConflictException($"rocksdb: batch {batch} is already committed; its versions cannot change");
            // The write index entry goes in the same atomic write as the versions it names.
            wb.Put(RocksKeys.Numbered(RocksKeys.WriteIndex, batch, _nextWriteId++), RocksKeys.EncodePrefixes(prefixes));
            _db.Write(wb, _unsynced);
            if (!_written.TryGetValue(batch, out var written)) _written[batch] = written = [];
            for (int i = 0; i < writes.Count; i++) written[writes[i].Key] = prefixes[i];
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask CommitAsync(long batch, CancellationToken cancellation = default) => CommitAsync(batch, 0, cancellation);

    public ValueTask<long> ClaimAsync(CancellationToken cancellation = default)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            _db.Put(RocksKeys.EpochKey, BitConverter.GetBytes(_epoch + 1), writeOptions: _synced);
            return ValueTask.FromResult(++_epoch);
        }
    }

    private void CheckEpoch(long epoch)
    {
        if (epoch != 0 && epoch != _epoch) throw new StoreFencedException($"rocksdb: the store was claimed by epoch {_epoch}; this owner holds epoch {epoch}");
    }

    public ValueTask CommitAsync(long batch, long epoch, CancellationToken cancellation = default)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            CheckEpoch(epoch);
            if (batch != _lastCommitted + 1) throw new StoreConflictException($"rocksdb: commit records go in batch order: expected {_lastCommitted + 1}, got {batch}");
            using var wb = new WriteBatch();
            wb.Put(RocksKeys.CommitKey, RocksKeys.Numbered(RocksKeys.Commit, batch)[1..]);
            // The batch's index entries are no longer needed, and its versions supersede every older one.
            var indexStart = RocksKeys.Numbered(RocksKeys.WriteIndex, batch, 0);
            var indexEnd = RocksKeys.Numbered(RocksKeys.WriteIndex, batch + 1, 0);
            wb.DeleteRange(indexStart, (ulong)indexStart.Length, indexEnd, (ulong)indexEnd.Length);
            wb.Delete(RocksKeys.Numbered(RocksKeys.Log, batch)); // recovery re-executes only uncommitted batches
            if (_written.Remove(batch, out var written))
                foreach (var (key, prefix) in written)
                {
                    if (_newestCommitted.TryGetValue(key, out long previous)) wb.Delete(RocksKeys.VersionKey(prefix, previous));
                    else
                    {
                        // Not seen since this process opened the store: its older versions may be anywhere below b.
                        var from = RocksKeys.VersionKey(prefix, 0);
                        var to = RocksKeys.VersionKey(prefix, batch);
                        wb.DeleteRange(from, (ulong)from.Length, to, (ulong)to.Length);
                    }
                }
            _db.Write(wb, _synced);
            _lastCommitted = batch;
            if (written is not null)
                foreach (var key in written.Keys) _newestCommitted[key] = batch;
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<byte[]?> ReadCommittedAsync(StateKey key, CancellationToken cancellation = default)
    {
        long last = Volatile.Read(ref _lastCommitted);
        var prefix = RocksKeys.ObjectPrefix(key);
        lock (_lock) ThrowIfDisposed();
        using var it = _db.NewIterator();
        it.SeekForPrev(RocksKeys.VersionKey(prefix, last));
        if (!it.Valid()) return ValueTask.FromResult<byte[]?>(null);
        var found = it.GetKeySpan();
        if (found.Length != prefix.Length + 8 || !found.StartsWith(prefix)) return ValueTask.FromResult<byte[]?>(null);
        return ValueTask.FromResult(TaggedValue.Decode(it.GetValueSpan()));
    }

    public ValueTask<long> LastCommittedAsync(CancellationToken cancellation = default) => ValueTask.FromResult(Volatile.Read(ref _lastCommitted));

    public async IAsyncEnumerable<KeyValuePair<string, byte[]>> ScanCommittedAsync(string table, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        long last = Volatile.Read(ref _lastCommitted);
        var tablePrefix = RocksKeys.TablePrefix(table);
        var rows = new List<KeyValuePair<string, byte[]>>();
        lock (_lock) ThrowIfDisposed();
        using (var it = _db.NewIterator(readOptions: new ReadOptions().SetIterateUpperBound(RocksKeys.UpperBound(tablePrefix))))
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

    public ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, CancellationToken cancellation = default) =>
        AppendBatchInputAsync(batch, input, 0, cancellation);

    public ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, long epoch, CancellationToken cancellation = default)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            CheckEpoch(epoch);
            _db.Put(RocksKeys.Numbered(RocksKeys.Log, batch), input.ToArray(), writeOptions: _synced);
        }
        return ValueTask.CompletedTask;
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

    public ValueTask<long> DiscardUncommittedAsync(CancellationToken cancellation = default)
    {
        long removed = 0;
        lock (_lock)
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
            _db.Write(wb, _synced);
            foreach (var batch in _written.Keys.Where(b => b > _lastCommitted).ToList()) _written.Remove(batch);
        }
        return ValueTask.FromResult(removed);
    }

    public ValueTask<bool> CompareAndSetAsync(string name, byte[]? expected, byte[] value, CancellationToken cancellation = default)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            var key = RocksKeys.RecordKey(name);
            if (!Leasehold.Value.SameBytes(_db.Get(key), expected)) return ValueTask.FromResult(false);
            _db.Put(key, value, writeOptions: _synced);
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

    private void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException(nameof(RocksDbStateStore), "the rocksdb store is closed");
    }

    public ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            if (_disposed) return ValueTask.CompletedTask;
            _disposed = true;
            _db.Dispose();
        }
        return ValueTask.CompletedTask;
    }
}
