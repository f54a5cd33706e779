using Leasehold.Runtime.Serializable.Driver;

namespace Leasehold.Tests.Driver;

/// <summary>Lease assignment (§3): highest decayed count wins, ties to the lowest id, hysteresis against flapping, decay to follow a moving workload.</summary>
public class LeaseTableTests
{
    private const int K = 7;
    private static readonly StateKey Key = new("t", "k");

    [Fact]
    public void The_highest_count_wins()
    {
        var stats = new AccessStatistics(4, 1.0);
        stats.Set(K, 0, 2); stats.Set(K, 1, 3); stats.Set(K, 2, 9); stats.Set(K, 3, 4);
        var leases = new LeaseTable(stats, hysteresis: 1.0);
        Assert.Equal(-1, leases.HolderOf(K));
        var entry = leases.Assign(K, Key, written: true);
        Assert.Equal(2, entry.Holder);
        Assert.Equal(-1, entry.PreviousHolder);
        Assert.True(entry.Written);
        Assert.Equal(Key, entry.Key);
        Assert.Equal(2, leases.HolderOf(K));
    }

    [Fact]
    public void Ties_go_to_the_lowest_worker_id()
    {
        var stats = new AccessStatistics(4, 1.0);
        stats.Set(K, 1, 5); stats.Set(K, 2, 5); stats.Set(K, 3, 5);
        Assert.Equal(1, new LeaseTable(stats, 0).Assign(K, Key, false).Holder);

        var empty = new AccessStatistics(4, 1.0);
        Assert.Equal(0, new LeaseTable(empty, 0).Assign(K, Key, false).Holder);
    }

    [Fact]
    public void Hysteresis_keeps_the_holder_against_a_small_lead_and_moves_it_for_a_large_one()
    {
        var stats = new AccessStatistics(3, 1.0);
        stats.Set(K, 0, 10);
        var leases = new LeaseTable(stats, hysteresis: 2.0);
        Assert.Equal(0, leases.Assign(K, Key, false).Holder);

        stats.Set(K, 1, 11.5); // ahead by 1.5 < 2
        var kept = leases.Assign(K, Key, false);
        Assert.Equal(0, kept.Holder);
        Assert.Equal(0, kept.PreviousHolder);

        stats.Set(K, 1, 12); // ahead by exactly the margin: not more than it
        Assert.Equal(0, leases.Assign(K, Key, false).Holder);

        stats.Set(K, 1, 12.5); // ahead by 2.5 > 2
        var moved = leases.Assign(K, Key, false);
        Assert.Equal(1, moved.Holder);
        Assert.Equal(0, moved.PreviousHolder);
        Assert.Equal(1, leases.HolderOf(K));
    }

    [Fact]
    public void Without_hysteresis_any_lead_moves_the_lease()
    {
        var stats = new AccessStatistics(2, 1.0);
        stats.Set(K, 0, 10);
        var leases = new LeaseTable(stats, hysteresis: 0);
        Assert.Equal(0, leases.Assign(K, Key, false).Holder);
        stats.Set(K, 1, 10.25);
        Assert.Equal(1, leases.Assign(K, Key, false).Holder);
    }

    /// <summary>Worker 0 hammers the key for a while, then the workload moves to worker 1. Returns the holder after each batch of the new workload.</summary>
    private static List<int> FollowMovingWorkload(double decay, int newBatches)
    {
        var stats = new AccessStatistics(2, decay);
        var leases = new LeaseTable(stats, hysteresis: 1.0);
        void Batch(int worker)
        {
            for (int i = 0; i < 10; i++) stats.Record(worker, [K]);
            leases.Assign(K, Key, written: true);
            stats.AdvanceEpoch();
        }
        for (int b = 0; b < 8; b++) Batch(0);
        Assert.Equal(0, leases.HolderOf(K));
        var holders = new List<int>();
        for (int b = 0; b < newBatches; b++)
        {
            Batch(1);
            holders.Add(leases.HolderOf(K));
        }
        return holders;
    }

    [Fact]
    public void Decay_lets_the_lease_follow_a_workload_that_moved_to_another_worker()
    {
        var decayed = FollowMovingWorkload(decay: 0.5, newBatches: 4);
        // Batch 1: worker 0 decayed to ~10, worker 1 at 10: not ahead by the margin. Batch 2: 5 vs 15.
        Assert.Equal([0, 1, 1, 1], decayed);

        // The control: without decay, 80 old accesses hold the lease far longer than that.
        var sticky = FollowMovingWorkload(decay: 1.0, newBatches: 4);
        Assert.Equal([0, 0, 0, 0], sticky);
    }

    [Fact]
    public void Advancing_an_epoch_multiplies_counts_and_loads_by_the_decay()
    {
        var stats = new AccessStatistics(2, 0.5);
        stats.Record(1, [K, K + 1]);
        stats.Record(1, [K]);
        Assert.Equal(2, stats.Count(K, 1));
        Assert.Equal(2, stats.Load(1));
        stats.AdvanceEpoch();
        stats.AdvanceEpoch();
        Assert.Equal(0.5, stats.Count(K, 1), 12);
        Assert.Equal(0.25, stats.Count(K + 1, 1), 12);
        Assert.Equal(0.5, stats.Load(1), 12);
        Assert.Equal(0, stats.Count(K, 0));
    }
}
