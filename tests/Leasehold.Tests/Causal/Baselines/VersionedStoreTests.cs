using Leasehold.Runtime.Causal;
using Leasehold.Baselines.Causal.Versioned;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Tests.Causal.Baselines;

/// <summary>The versioned store alone: stable placement, batched change notifications, history bounds, and FaaSTCC's promises and two-phase commit.</summary>
public class VersionedStoreTests
{
    private static readonly StateKey X = new("t", "x"), Y = new("t", "y");

    private sealed class Rig
    {
        public readonly DeterministicScheduler Scheduler = new(1);
        public readonly VersionedStore Store;
        public readonly BaselineNode Cache;
        public readonly List<(TimeSpan At, StoreNotification N)> Received = [];
        public readonly CausalOptions Options;

        public Rig(int partitions = 2, int history = 4)
        {
            Options = new CausalOptions { Servers = 2, StorePartitions = partitions, VersionHistory = history, LinkLatency = TimeSpan.FromMicroseconds(10), NotificationInterval = TimeSpan.FromMicroseconds(100) };
            var net = new BaselineNet(new Network(Scheduler, Options.LinkLatency), TimeSpan.Zero);
            Store = new VersionedStore(Options, Scheduler, net, _ => null);
            Cache = new BaselineNode(Scheduler, "cache");
            Store.Subscribe(Cache, n => Received.Add((Now, n)));
        }

        public TimeSpan Now => TimeSpan.FromTicks(Scheduler.VirtualTime.Nanoseconds / 100);

        public StoredVersion Version(StateKey key, long value, params long[] clock) =>
            new(key, new CausalVersion(Value.FromLong(value), VectorClock.Of(clock), new Dictionary<StateKey, VectorClock>()), 0, []);

        public void Quiesce() => Scheduler.RunToQuiescence();
    }

    [Fact]
    public void Keys_are_placed_by_a_stable_hash_not_the_process_randomized_one()
    {
        // FNV-1a of "t/x": the same in every process, so placements and runs replay.
        Assert.Equal(StoreKeys.StableHash(X), StoreKeys.StableHash(new StateKey("t", "x")));
        Assert.NotEqual(StoreKeys.StableHash(new StateKey("t", "xy")), StoreKeys.StableHash(new StateKey("tx", "y")));
        var counts = new int[4];
        for (int i = 0; i < 1000; i++) counts[StoreKeys.PartitionOf(new StateKey("t", $"k{i}"), 4)]++;
        Assert.All(counts, c => Assert.InRange(c, 150, 350));
    }

    [Fact]
    public void Writes_reach_subscribers_in_one_batch_per_interval_and_then_the_store_goes_quiet()
    {
        var rig = new Rig(partitions: 1);
        bool acked = false;
        rig.Store.Write(rig.Cache, [rig.Version(X, 1, 1, 0), rig.Version(Y, 2, 1, 0)], () => acked = true);
        rig.Quiesce();
        Assert.True(acked);
        var batch = Assert.Single(rig.Received);
        Assert.Equal(2, batch.N.Versions.Count);
        // Write: one hop there; the batch leaves one interval later and takes one hop.
        Assert.Equal(TimeSpan.FromMicroseconds(10 + 100 + 10), batch.At);
        Assert.True(batch.N.Versions[0].Timestamp < batch.N.Versions[1].Timestamp, "the partition orders versions by the timestamps it issues");
        Assert.True(batch.N.Promise >= batch.N.Versions[1].Timestamp);
    }

    [Fact]
    public void The_store_keeps_the_lattice_merge_and_a_bounded_history_of_exact_versions()
    {
        var rig = new Rig(partitions: 1, history: 2);
        rig.Store.Write(rig.Cache, [rig.Version(X, 1, 1, 0)], () => { });
        rig.Store.Write(rig.Cache, [rig.Version(X, 2, 0, 1)], () => { });
        rig.Store.Write(rig.Cache, [rig.Version(X, 3, 0, 2)], () => { });
        rig.Quiesce();
        var p = rig.Store.PartitionOf(X);
        Assert.Equal(VectorClock.Of(1, 2), p.Latest(X).Clock); // the join of all three
        Assert.Equal(3, Value.ToLong(p.Latest(X).Value));       // the arbitration winner: the largest entry sum
        Assert.Null(p.ReadExact(new VersionId(X, VectorClock.Of(1, 0)))); // dropped: history 2
        Assert.NotNull(p.ReadExact(new VersionId(X, VectorClock.Of(0, 2))));
        StoredVersion? fetched = null;
        rig.Store.ReadExact(rig.Cache, new VersionId(X, VectorClock.Of(0, 1)), v => fetched = v);
        rig.Quiesce();
        Assert.Equal(2, Value.ToLong(fetched!.Value));
    }

    [Fact]
    public void A_prepared_commit_holds_the_promise_below_its_proposal_and_a_read_above_it_waits_for_the_decision()
    {
        var rig = new Rig(partitions: 1);
        var p = rig.Store.PartitionOf(X);
        long proposal = 0;
        rig.Scheduler.Post(p.Node.Mailbox, () => proposal = p.Prepare(above: 5));
        rig.Quiesce();
        Assert.True(proposal > 5);
        Assert.True(p.Promise < proposal, "no version at or below the promise may be installed later, and the prepared one may be");
        TimedRead? read = null;
        rig.Scheduler.Post(p.Node.Mailbox, () => p.ReadAt(X, proposal, long.MaxValue, r => read = r));
        rig.Quiesce();
        Assert.Null(read); // it waits for the decision
        rig.Scheduler.Post(p.Node.Mailbox, () => p.Decide(proposal, proposal + 3, [rig.Version(X, 7, 0, 0)]));
        rig.Quiesce();
        Assert.NotNull(read);
        Assert.Equal(7, Value.ToLong(read!.Value.Version!.Value));
        Assert.Equal(proposal + 3, read.Value.Version.Timestamp);
        Assert.True(read.Value.ValidUntil >= proposal + 3);
        Assert.Contains(rig.Received, r => r.N.Versions.Count == 1 && r.N.Promise >= proposal + 3);
    }

    [Fact]
    public void A_read_at_an_interval_gets_the_version_valid_there_and_aborts_when_it_was_dropped()
    {
        var rig = new Rig(partitions: 1, history: 2);
        var p = rig.Store.PartitionOf(X);
        var commits = new List<long>();
        for (int i = 1; i <= 3; i++)
        {
            int v = i;
            rig.Scheduler.Post(p.Node.Mailbox, () => { long t = p.Prepare(0); p.Decide(t, t, [rig.Version(X, v, 0, 0)]); commits.Add(t); });
            rig.Quiesce();
        }
        TimedRead? mid = null, old = null;
        rig.Store.ReadAt(rig.Cache, X, 0, commits[1], r => mid = r);
        rig.Store.ReadAt(rig.Cache, X, 0, commits[0], r => old = r);
        rig.Quiesce();
        Assert.Equal(2, Value.ToLong(mid!.Value.Version!.Value));
        Assert.Equal(commits[2] - 1, mid.Value.ValidUntil); // valid until the next version
        Assert.Null(old!.Value.Version); // version 1 is gone (history 2): the transaction must abort
    }

    /// <summary>
    /// The checker found this on seed 7: a commit prepared early but decided late takes a timestamp below a
    /// version installed meanwhile, so "valid until the next version" alone claimed a validity the late
    /// commit then broke. A version's validity never reaches past the promise.
    /// </summary>
    [Fact]
    public void A_commit_decided_late_lands_between_versions_and_validity_stops_at_the_promise()
    {
        var rig = new Rig(partitions: 1);
        var p = rig.Store.PartitionOf(X);
        long early = 0, first = 0, second = 0;
        rig.Scheduler.Post(p.Node.Mailbox, () =>
        {
            first = p.Prepare(0);
            p.Decide(first, first, [rig.Version(X, 1, 0, 0)]);
            early = p.Prepare(0);                    // held open
            second = p.Prepare(0);
            p.Decide(second, second + 10, [rig.Version(X, 3, 0, 0)]);
        });
        rig.Quiesce();
        TimedRead? read = null;
        rig.Store.ReadAt(rig.Cache, X, 0, second, r => read = r);
        rig.Quiesce();
        Assert.Equal(1, Value.ToLong(read!.Value.Version!.Value));
        Assert.True(read.Value.ValidUntil < early, $"version 1 claimed valid until {read.Value.ValidUntil}, but a commit at {early} or later is still undecided");
        rig.Scheduler.Post(p.Node.Mailbox, () => p.Decide(early, early, [rig.Version(X, 2, 0, 0)]));
        rig.Quiesce();
        rig.Store.ReadAt(rig.Cache, X, early, early, r => read = r);
        rig.Quiesce();
        Assert.Equal(2, Value.ToLong(read!.Value.Version!.Value)); // it landed between versions 1 and 3
    }

    [Fact]
    public void Proposals_of_different_partitions_never_collide()
    {
        var rig = new Rig(partitions: 3);
        var seen = new HashSet<long>();
        foreach (var part in rig.Store.Partitions)
            for (int i = 0; i < 20; i++) Assert.True(seen.Add(part.Prepare(i * 2)), "a timestamp issued twice");
    }
}
