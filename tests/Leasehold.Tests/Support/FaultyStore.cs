using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Support;

/// <summary>
/// Wraps a real store and fails the operations a test names (a disk error, a lost connection), so the
/// engine's handling of store failures can be tested without a broken disk.
/// </summary>
/// <remarks><paramref name="faultAfter"/> fails an operation after it took effect (a reply lost on the way back).</remarks>
public sealed class FaultyStore(IStateStore inner, Func<string, Exception?> fault, Func<string, Exception?>? faultAfter = null) : IStateStore
{
    public string Name => $"faulty({inner.Name})";

    private ValueTask Guard(string operation, Func<ValueTask> run) =>
        fault(operation) is { } e ? ValueTask.FromException(e) : faultAfter is null ? run() : ThenFail(operation, run);

    private async ValueTask ThenFail(string operation, Func<ValueTask> run)
    {
        await run();
        if (faultAfter!(operation) is { } e) throw e;
    }

    private ValueTask<T> Guard<T>(string operation, Func<ValueTask<T>> run) =>
        fault(operation) is { } e ? ValueTask.FromException<T>(e) : faultAfter is null ? run() : ThenFail(operation, run);

    private async ValueTask<T> ThenFail<T>(string operation, Func<ValueTask<T>> run)
    {
        var value = await run();
        if (faultAfter!(operation) is { } e) throw e;
        return value;
    }

    public ValueTask LoadAsync(IEnumerable<KeyValuePair<StateKey, byte[]>> objects, CancellationToken cancellation = default) =>
        Guard("load", () => inner.LoadAsync(objects, cancellation));
    public ValueTask WriteVersionsAsync(long batch, IReadOnlyList<KeyValuePair<StateKey, byte[]?>> writes, CancellationToken cancellation = default) =>
        Guard("write", () => inner.WriteVersionsAsync(batch, writes, cancellation));
    public ValueTask CommitAsync(long batch, CancellationToken cancellation = default) => CommitAsync(batch, 0, cancellation);
    public ValueTask CommitAsync(long batch, long epoch, CancellationToken cancellation = default) => Guard("commit", () => inner.CommitAsync(batch, epoch, cancellation));
    public ValueTask<long> ClaimAsync(CancellationToken cancellation = default) => Guard("claim", () => inner.ClaimAsync(cancellation));
    public ValueTask<byte[]?> ReadCommittedAsync(StateKey key, CancellationToken cancellation = default) => Guard("read", () => inner.ReadCommittedAsync(key, cancellation));
    public ValueTask<long> LastCommittedAsync(CancellationToken cancellation = default) => Guard("last", () => inner.LastCommittedAsync(cancellation));
    public IAsyncEnumerable<KeyValuePair<string, byte[]>> ScanCommittedAsync(string table, CancellationToken cancellation = default) =>
        fault("scan") is { } e ? throw e : inner.ScanCommittedAsync(table, cancellation);
    public ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, CancellationToken cancellation = default) =>
        AppendBatchInputAsync(batch, input, 0, cancellation);
    public ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, long epoch, CancellationToken cancellation = default) =>
        Guard("log", () => inner.AppendBatchInputAsync(batch, input, epoch, cancellation));
    public IAsyncEnumerable<KeyValuePair<long, byte[]>> ReadBatchInputsAsync(long after, CancellationToken cancellation = default) =>
        fault("read-log") is { } e ? throw e : inner.ReadBatchInputsAsync(after, cancellation);
    public ValueTask<long> DiscardUncommittedAsync(CancellationToken cancellation = default) => Guard("discard", () => inner.DiscardUncommittedAsync(cancellation));
    public ValueTask<bool> CompareAndSetAsync(string name, byte[]? expected, byte[] value, CancellationToken cancellation = default) =>
        Guard("cas", () => inner.CompareAndSetAsync(name, expected, value, cancellation));
    public ValueTask<byte[]?> ReadRecordAsync(string name, CancellationToken cancellation = default) => Guard("record", () => inner.ReadRecordAsync(name, cancellation));
    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
