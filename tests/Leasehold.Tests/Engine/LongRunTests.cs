using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Engine;

/// <summary>Long deterministic runs: the oracle still holds, per-batch state returns to zero, statistics stay bounded.</summary>
public class LongRunTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Thousands_of_requests_with_leases_moving_back_and_forth_match_the_reference_and_free_batch_state(int seed) =>
        ConfigurableOracleRun.Check(seed, new ConfigurableOracleRun.Config
        {
            MinRequests = 3000, MaxRequests = 3001, MinKeys = 4, MaxKeys = 10,
            Options = (_, o) => o with { Workers = 4, Decay = 0.5, LeaseHysteresis = 0, AffinityWeight = 0.2, LoadWeight = 3, MaxBatchSize = 4 },
        }, "long-pingpong");

    [Fact]
    public void Statistics_rows_stay_bounded_when_every_batch_touches_new_keys()
    {
        var wf = new WorkflowBuilder("inc")
            .Function("inc", f => f.Updates("t", a => a.GetString("k")).Body(ctx =>
                ctx.WriteLong("t", ctx.Args.GetString("k"), ctx.ReadLong("t", ctx.Args.GetString("k")) + 1)))
            .Build();
        var options = new ClusterOptions { Workers = 3, MaxBatchSize = 2, Decay = 0.5 };
        var sim = new SimulatedCluster(7, options, [], wf);
        int peakRows = 0;
        for (int i = 0; i < 4000; i++)
        {
            sim.Submit("inc", Args.Create().Set("k", $"key{i}").Build());
            if (i % 50 == 49)
            {
                sim.RunToCompletion();
                peakRows = Math.Max(peakRows, sim.Cluster.StatisticsRows);
            }
        }
        sim.RunToCompletion();
        Assert.Equal(0, sim.Cluster.WorkerBatchesInFlight);
        Assert.Equal(0, sim.Cluster.DriverBatchesInFlight);
        // decay 0.5: a row is dead after ~10 batches; pruning runs every 256 batches, so ~600 rows at most.
        Assert.True(peakRows < 1200, $"statistics rows peaked at {peakRows}");
    }
}
