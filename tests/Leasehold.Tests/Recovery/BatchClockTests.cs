using Leasehold.Runtime.Serializable.Driver;
using Leasehold.Runtime.Serializable.Recovery;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Recovery;

/// <summary>The durable bound on ctx.BatchTime: what a start reserves, and what it refuses.</summary>
public class BatchClockTests
{
    private static readonly DateTimeOffset T = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_start_reserves_above_every_earlier_bound_even_on_a_clock_that_is_behind()
    {
        var store = new MemoryStateStore();
        var first = await BatchClock.ReserveAsync(store, T, default);
        Assert.Equal(DateTimeOffset.MinValue, first.Floor); // a new store: nothing to stay above
        Assert.Equal(T + BatchClock.Ahead, first.Until);

        var behind = await BatchClock.ReserveAsync(store, T - TimeSpan.FromHours(1), default);
        Assert.Equal(first.Until, behind.Floor); // the earlier life may have used times up to its bound
        Assert.True(behind.Until > behind.Floor);
    }

    [Theory]
    [InlineData(new byte[] { 1, 2, 3 }, "3 bytes")]
    [InlineData(new byte[] { 255, 255, 255, 255, 255, 255, 255, 255 }, "which is no time")]
    public async Task A_record_that_is_not_a_time_refuses_the_start_naming_it(byte[] record, string named)
    {
        var store = new MemoryStateStore();
        Assert.True(await store.CompareAndSetAsync(BatchClock.RecordName, null, record));
        var e = await Assert.ThrowsAsync<RecoveryException>(() => BatchClock.ReserveAsync(store, T, default));
        Assert.Contains(BatchClock.RecordName, e.Message);
        Assert.Contains(named, e.Message);
    }
}
