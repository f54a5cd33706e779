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
}
