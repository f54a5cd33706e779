namespace Leasehold.Runtime.Storage;

/// <summary>
/// A real in-memory engine (not a mock): versioned values, commit records in order, reads that skip
/// uncommitted versions. Versions older than the newest committed one are pruned at commit. Values are
/// copied in and out, as a durable engine would serialize them: no caller can change stored state.
/// </summary>
public sealed class MemoryStateStore : IStateStore
{
    private readonly Lock _lock = new();
    private long _epoch;
    private readonly Dictionary<StateKey, KeyVersions> _versions = [];
    private readonly Dictionary<long, List<StateKey>> _writtenBy = [];
    private readonly SortedDictionary<long, byte[]> _batchLog = [];
    private readonly Dictionary<string, byte[]> _records = new(StringComparer.Ordinal);
    private long _lastCommitted;
    private long _writes;

    public string Name => "memory";

    /// <summary>Number of WriteVersions calls so far (one per worker per batch).</summary>
    public long WriteCalls => Interlocked.Read(ref _writes);

    /// <summary>Loads initial state as batch 0, committed (tests call it directly).</summary>
    public void Load(IEnumerable<KeyValuePair<StateKey, byte[]>> objects)
    {
        lock (_lock)
        {
            if (_lastCommitted > 0) throw new StoreConflictException($"the store has committed batches up to {_lastCommitted}; initial state loads only into a fresh store");
            foreach (var (key, value) in objects)
            {
                var versions = _versions[key] = new KeyVersions();
                versions.Put(0, value);
            }
        }
    }

    public ValueTask LoadAsync(IEnumerable<KeyValuePair<StateKey, byte[]>> objects, CancellationToken cancellation = default)
    {
        Load(objects);
        return ValueTask.CompletedTask;
    }

    public ValueTask WriteVersionsAsync(long batch, IReadOnlyList<KeyValuePair<StateKey, byte[]?>> writes, CancellationToken cancellation = default)
    {
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batches are numbered from 1");
        Interlocked.Increment(ref _writes);
        lock (_lock)
        {
            if (batch <= _lastCommitted) throw new StoreConflictException($"batch {batch} is already committed; its versions cannot change");
            if (!_writtenBy.TryGetValue(batch, out var keys)) _writtenBy[batch] = keys = [];
            foreach (var (key, value) in writes)
            {
                if (!_versions.TryGetValue(key, out var versions)) _versions[key] = versions = new KeyVersions();
                versions.Put(batch, value);
                keys.Add(key);
            }
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask CommitAsync(long batch, CancellationToken cancellation = default) => CommitAsync(batch, 0, cancellation);

    public ValueTask<long> ClaimAsync(CancellationToken cancellation = default)
    {
        lock (_lock) return ValueTask.FromResult(++_epoch);
    }

    private void CheckEpoch(long epoch)
    {
        if (epoch != 0 && epoch != _epoch) throw new StoreFencedException($"memory: the store was claimed by epoch {_epoch}; this owner holds epoch {epoch}");
    }

    public ValueTask CommitAsync(long batch, long epoch, CancellationToken cancellation = default)
    {
        lock (_lock)
        {
            CheckEpoch(epoch);
            if (batch != _lastCommitted + 1) throw new StoreConflictException($"commit records go in batch order: expected {_lastCommitted + 1}, got {batch}");
            _lastCommitted = batch;
            _batchLog.Remove(batch); // recovery re-executes only uncommitted batches
            if (_writtenBy.Remove(batch, out var keys))
                foreach (var key in keys) _versions[key].PruneBelowNewestCommitted(batch);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<byte[]?> ReadCommittedAsync(StateKey key, CancellationToken cancellation = default)
    {
        lock (_lock)
        {
            if (_versions.TryGetValue(key, out var versions) && versions.NewestCommitted(_lastCommitted) is var i and >= 0)
                return ValueTask.FromResult(Copy(versions.ValueAt(i)));
            return ValueTask.FromResult<byte[]?>(null);
        }
    }

    public ValueTask<long> LastCommittedAsync(CancellationToken cancellation = default)
    {
        lock (_lock) return ValueTask.FromResult(_lastCommitted);
    }

    public async IAsyncEnumerable<KeyValuePair<string, byte[]>> ScanCommittedAsync(string table, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation = default)
    {
        List<KeyValuePair<string, byte[]>> rows = [];
        lock (_lock)
        {
            foreach (var (key, versions) in _versions)
            {
                if (key.Table != table) continue;
                int i = versions.NewestCommitted(_lastCommitted);
                if (i >= 0 && versions.ValueAt(i) is { } v) rows.Add(new(key.Key, v.AsSpan().ToArray()));
            }
        }
        rows.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var row in rows)
        {
            cancellation.ThrowIfCancellationRequested();
            yield return row;
        }
        await Task.CompletedTask;
    }

    public ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, CancellationToken cancellation = default) =>
        AppendBatchInputAsync(batch, input, 0, cancellation);

    public ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, long epoch, CancellationToken cancellation = default)
    {
        lock (_lock)
        {
            CheckEpoch(epoch);
            _batchLog[batch] = input.ToArray();
        }
        return ValueTask.CompletedTask;
    }

    public async IAsyncEnumerable<KeyValuePair<long, byte[]>> ReadBatchInputsAsync(long after, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation = default)
    {
        List<KeyValuePair<long, byte[]>> inputs;
        lock (_lock) inputs = _batchLog.Where(b => b.Key > after).Select(b => new KeyValuePair<long, byte[]>(b.Key, b.Value.AsSpan().ToArray())).ToList();
        foreach (var input in inputs)
        {
            cancellation.ThrowIfCancellationRequested();
            yield return input;
        }
        await Task.CompletedTask;
    }

    public ValueTask<long> DiscardUncommittedAsync(CancellationToken cancellation = default)
    {
        long removed = 0;
        lock (_lock)
        {
            foreach (var batch in _writtenBy.Keys.Where(b => b > _lastCommitted).Order().ToList())
            {
                foreach (var key in _writtenBy[batch])
                    if (_versions.TryGetValue(key, out var versions)) removed += versions.Remove(batch);
                _writtenBy.Remove(batch);
            }
        }
        return ValueTask.FromResult(removed);
    }

    public ValueTask<bool> CompareAndSetAsync(string name, byte[]? expected, byte[] value, CancellationToken cancellation = default)
    {
        lock (_lock)
        {
            _records.TryGetValue(name, out var current);
            if (!Value.SameBytes(current, expected)) return ValueTask.FromResult(false);
            _records[name] = Copy(value)!;
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask<byte[]?> ReadRecordAsync(string name, CancellationToken cancellation = default)
    {
        lock (_lock) return ValueTask.FromResult(_records.TryGetValue(name, out var v) ? Copy(v) : null);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static byte[]? Copy(byte[]? value) => value?.AsSpan().ToArray();
}
