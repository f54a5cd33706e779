using Leasehold.Runtime.Serializable.Driver;

namespace Leasehold.Tests.Driver;

/// <summary>Rows that decayed to nothing are pruned, so the statistics table stays bounded by the keys of the recent past.</summary>
public class AccessStatisticsPruningTests
{
    [Fact]
    public void Rows_that_decayed_to_nothing_are_pruned()
    {
        var stats = new AccessStatistics(4, decay: 0.5);
        for (int k = 0; k < 500; k++) stats.Record(k % 4, [k]);
        Assert.Equal(500, stats.RowCount);

        for (int e = 0; e < 255; e++) stats.AdvanceEpoch();
        Assert.Equal(500, stats.RowCount); // pruning runs every 256 epochs
        stats.AdvanceEpoch();
        Assert.Equal(0, stats.RowCount);
        Assert.Equal(0, stats.Count(123, 3));
    }

    [Fact]
    public void Rows_still_in_use_survive_pruning()
    {
        var stats = new AccessStatistics(2, decay: 0.5);
        for (int k = 0; k < 100; k++) stats.Record(0, [k]);
        for (int e = 0; e < 256; e++)
        {
            stats.Record(1, [7]); // key 7 stays hot
            stats.AdvanceEpoch();
        }
        Assert.Equal(1, stats.RowCount);
        Assert.True(stats.Count(7, 1) > 0.5, $"key 7 counts {stats.Count(7, 1)}");
    }

    [Fact]
    public void A_workload_over_ever_new_keys_keeps_the_table_bounded()
    {
        var stats = new AccessStatistics(4, decay: 0.9);
        int key = 0, maxRows = 0;
        const int Epochs = 3000, KeysPerEpoch = 10;
        for (int e = 0; e < Epochs; e++)
        {
            for (int i = 0; i < KeysPerEpoch; i++, key++) stats.Record(key % 4, [key]);
            stats.AdvanceEpoch();
            maxRows = Math.Max(maxRows, stats.RowCount);
        }
        // A row lives until 0.9^age < 1e-3 (about 66 epochs), plus up to 256 epochs until the next prune.
        Assert.True(maxRows <= (66 + 256 + 1) * KeysPerEpoch, $"up to {maxRows} rows for {key} keys touched");
        Assert.True(maxRows < key / 5, $"up to {maxRows} rows for {key} keys touched");
    }
}
