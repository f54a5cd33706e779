using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Support;

/// <summary>
/// A store that passes every call to <paramref name="inner"/>: a test wrapper overrides only the calls it
/// records, delays or fails, instead of repeating the whole interface.
/// </summary>
public abstract class DelegatingStore(IStateStore inner) : IStateStore
{
    protected IStateStore Inner { get; } = inner;

    public virtual string Name => Inner.Name;
    public virtual ValueTask LoadAsync(IEnumerable<KeyValuePair<StateKey, byte[]>> objects, CancellationToken c = default) => Inner.LoadAsync(objects, c);
    public virtual ValueTask WriteVersionsAsync(long batch, IReadOnlyList<KeyValuePair<StateKey, byte[]?>> writes, CancellationToken c = default) => Inner.WriteVersionsAsync(batch, writes, c);
    public virtual ValueTask CommitAsync(long batch, long epoch, CancellationToken c = default) => Inner.CommitAsync(batch, epoch, c);
    public virtual ValueTask<long> ClaimAsync(CancellationToken c = default) => Inner.ClaimAsync(c);
    public virtual ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, long epoch, CancellationToken c = default) => Inner.AppendBatchInputAsync(batch, input, epoch, c);
    public virtual ValueTask WriteLogAsync(IReadOnlyList<KeyValuePair<long, ReadOnlyMemory<byte>>> inputs, long commitFrom, long commitThrough, long epoch, CancellationToken c = default) =>
        Inner.WriteLogAsync(inputs, commitFrom, commitThrough, epoch, c);
    public virtual ValueTask<byte[]?> ReadCommittedAsync(StateKey key, CancellationToken c = default) => Inner.ReadCommittedAsync(key, c);
    public virtual ValueTask<long> LastCommittedAsync(CancellationToken c = default) => Inner.LastCommittedAsync(c);
    public virtual IAsyncEnumerable<KeyValuePair<string, byte[]>> ScanCommittedAsync(string table, CancellationToken c = default) => Inner.ScanCommittedAsync(table, c);
    public virtual IAsyncEnumerable<KeyValuePair<long, byte[]>> ReadBatchInputsAsync(long after, CancellationToken c = default) => Inner.ReadBatchInputsAsync(after, c);
    public virtual ValueTask<long> DiscardUncommittedAsync(CancellationToken c = default) => Inner.DiscardUncommittedAsync(c);
    public virtual ValueTask<bool> CompareAndSetAsync(string name, byte[]? expected, byte[] value, CancellationToken c = default) => Inner.CompareAndSetAsync(name, expected, value, c);
    public virtual ValueTask<byte[]?> ReadRecordAsync(string name, CancellationToken c = default) => Inner.ReadRecordAsync(name, c);
    public virtual ValueTask DisposeAsync() => Inner.DisposeAsync();
}
