using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Storage;

/// <summary>What the conformance suite (which the memory engine also passes) does not cover.</summary>
public class MemoryStateStoreTests
{
    private static readonly StateKey K = new("t", "k");

    [Fact]
    public async Task No_caller_can_change_stored_state_through_an_array_it_passed_or_got()
    {
        var store = new MemoryStateStore();
        var written = Value.FromLong(5);
        await store.WriteVersionsAsync(1, [new(K, written)]);
        await store.CommitAsync(1);
        written[0] = 99;
        var read = await store.ReadCommittedAsync(K);
        read![0] = 77;
        Assert.Equal(5, Value.ToLong(await store.ReadCommittedAsync(K)));
    }

    /// <summary>
    /// Pruned versions' buffers are reused for later writes of the key: a reused buffer must only ever be
    /// one nobody reads any more, never the committed version, whatever is written, discarded or replaced.
    /// </summary>
    [Fact]
    public async Task Reusing_pruned_buffers_never_changes_a_committed_or_pending_version()
    {
        var store = new MemoryStateStore();
        store.Load([new(K, Value.FromLong(0))]);
        for (long b = 1; b <= 6; b++)
        {
            await store.WriteVersionsAsync(b, [new(K, Value.FromLong(b * 10))]);
            await store.WriteVersionsAsync(b, [new(K, Value.FromLong(b * 100))]); // replaces its own version
            Assert.Equal((b - 1) * 100, Value.ToLong(await store.ReadCommittedAsync(K)));
            await store.CommitAsync(b); // prunes the version before b
            await store.WriteVersionsAsync(b + 1, [new(K, Value.FromLong(-1))]); // lands in a reused buffer; discarded below
            Assert.Equal(b * 100, Value.ToLong(await store.ReadCommittedAsync(K)));
            Assert.Equal(1, await store.DiscardUncommittedAsync());
            Assert.Equal(b * 100, Value.ToLong(await store.ReadCommittedAsync(K)));
        }
        await store.WriteVersionsAsync(7, [new(K, Value.FromLong(7))]);
        await store.WriteVersionsAsync(8, [new(K, Value.FromLong(8))]);
        await store.CommitAsync(7);
        Assert.Equal(7, Value.ToLong(await store.ReadCommittedAsync(K)));
        await store.CommitAsync(8);
        Assert.Equal(8, Value.ToLong(await store.ReadCommittedAsync(K)));
    }
}
