using BenchmarkDotNet.Attributes;
using Leasehold.Storage.RocksDb;

namespace Leasehold.Benchmarks;

/// <summary>
/// <see cref="RocksDbStateStore.ReadCommittedAsync"/> of a key the store has not seen since it opened (a new
/// iterator and a SeekForPrev: every cold read took this path before point reads) against a key whose newest
/// committed batch it knows (one Get of the exact version key). The store holds 100,000 keys, loaded and then
/// rewritten in part by 20 committed batches of 2,000 keys, so versions lie in SST files and the memtable.
/// Each iteration reopens the store (its map empty again) and reads 4,096 keys in a seeded random order;
/// the point-read iteration first reads them once, so the store knows their newest batch.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(Invocations)]
public class RocksDbReadBenchmarks
{
    private const int Keys = 100_000;
    private const int Invocations = 16;
    private const int ReadsPerInvocation = 256;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"leasehold-read-bench-{Environment.ProcessId}");
    private RocksDbStateStore? _store;
    private StateKey[] _order = null!;
    private int _next;

    [GlobalSetup]
    public void Build()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
        var random = new Random(7);
        var keys = Enumerable.Range(0, Keys).Select(i => new StateKey("accounts", $"account-{i}")).ToArray();
        _store = RocksDbStateStore.Open(_dir);
        _store.LoadAsync(keys.Select(k => new KeyValuePair<StateKey, byte[]>(k, Value.FromLong(100)))).AsTask().GetAwaiter().GetResult();
        for (long batch = 1; batch <= 20; batch++)
        {
            var writes = Enumerable.Range(0, 2000).Select(_ => keys[random.Next(Keys)]).Distinct()
                .Select(k => new KeyValuePair<StateKey, byte[]?>(k, Value.FromLong(batch))).ToList();
            _store.WriteVersionsAsync(batch, writes).AsTask().GetAwaiter().GetResult();
            _store.CommitAsync(batch).AsTask().GetAwaiter().GetResult();
        }
        _order = Enumerable.Range(0, Invocations * ReadsPerInvocation).Select(_ => keys[random.Next(Keys)]).ToArray();
    }

    [IterationSetup(Target = nameof(SeekOfAnUnseenKey))]
    public void Reopen()
    {
        _store?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _store = RocksDbStateStore.Open(_dir);
        _next = 0;
    }

    [IterationSetup(Target = nameof(PointReadOfAKnownKey))]
    public void ReopenAndReadOnce()
    {
        Reopen();
        foreach (var key in _order) _store!.ReadCommittedAsync(key).AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = ReadsPerInvocation)]
    public long SeekOfAnUnseenKey() => ReadNext();

    [Benchmark(OperationsPerInvoke = ReadsPerInvocation)]
    public long PointReadOfAKnownKey() => ReadNext();

    private long ReadNext()
    {
        long sum = 0;
        for (int i = 0; i < ReadsPerInvocation; i++) sum += Value.ToLong(_store!.ReadCommittedAsync(_order[_next++]).AsTask().GetAwaiter().GetResult());
        return sum;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
