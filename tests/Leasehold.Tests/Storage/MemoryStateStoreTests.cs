using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Storage;

public class MemoryStateStoreTests
{
    private static readonly StateKey K = new("t", "k");

    [Fact]
    public async Task Readers_see_the_newest_committed_version_and_never_an_uncommitted_one()
    {
        var store = new MemoryStateStore();
        store.Load([new(K, Value.FromLong(1))]);
        await store.WriteVersionsAsync(1, [new(K, Value.FromLong(2))]);
        await store.WriteVersionsAsync(2, [new(K, Value.FromLong(3))]); // b and b+1 both wrote the key
        Assert.Equal(1, Value.ToLong(await store.ReadCommittedAsync(K)));
        await store.CommitAsync(1);
        Assert.Equal(2, Value.ToLong(await store.ReadCommittedAsync(K)));
        await store.CommitAsync(2);
        Assert.Equal(3, Value.ToLong(await store.ReadCommittedAsync(K)));
        Assert.Equal(2, await store.LastCommittedAsync());
    }

    [Fact]
    public async Task Commit_records_go_in_batch_order_and_committed_batches_are_final()
    {
        var store = new MemoryStateStore();
        await Assert.ThrowsAsync<StoreConflictException>(async () => await store.CommitAsync(2));
        await store.CommitAsync(1);
        await Assert.ThrowsAsync<StoreConflictException>(async () => await store.WriteVersionsAsync(1, [new(K, Value.FromLong(9))]));
    }

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
}
