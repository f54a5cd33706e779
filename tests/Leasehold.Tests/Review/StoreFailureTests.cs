using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Review;

/// <summary>
/// A store whose write-back fails (a disk error, a lost connection) faults the mailbox, after which the
/// requests already admitted are never answered: InvokeAsync hangs forever instead of failing. New
/// requests are refused (the fault is checked at admission), but those in flight are dropped silently.
/// </summary>
public class StoreFailureTests
{
    private sealed class FailingStore : IStateStore
    {
        private readonly MemoryStateStore _inner = new();
        public string Name => "failing";
        public ValueTask WriteVersionsAsync(long batch, IReadOnlyList<KeyValuePair<StateKey, byte[]?>> writes, CancellationToken cancellation = default) =>
            ValueTask.FromException(new IOException("disk full"));
        public ValueTask CommitAsync(long batch, CancellationToken cancellation = default) => _inner.CommitAsync(batch, cancellation);
        public ValueTask<byte[]?> ReadCommittedAsync(StateKey key, CancellationToken cancellation = default) => _inner.ReadCommittedAsync(key, cancellation);
        public ValueTask<long> LastCommittedAsync(CancellationToken cancellation = default) => _inner.LastCommittedAsync(cancellation);
        public IAsyncEnumerable<KeyValuePair<string, byte[]>> ScanCommittedAsync(string table, CancellationToken cancellation = default) => _inner.ScanCommittedAsync(table, cancellation);
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task A_failed_store_write_fails_the_requests_in_flight_instead_of_hanging_them()
    {
        using var scheduler = new ThreadPoolScheduler();
        var cluster = new SerializableCluster(new ClusterOptions { Workers = 2 }, scheduler, new FailingStore());
        cluster.Register(new WorkflowBuilder("put")
            .Function("put", f => f.Updates("t", a => "k").Body(ctx => ctx.WriteLong("t", "k", 1)))
            .Build());
        var call = cluster.InvokeAsync("put", Args.Empty);
        var first = await Task.WhenAny(call, Task.Delay(5000));
        Assert.True(scheduler.Fault is not null, "expected the store error to surface as a fault");
        Assert.True(first == call, $"the caller was never answered after the store failed: fault = {scheduler.Fault?.Message}");
    }
}
