using System.Runtime.CompilerServices;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Transport.SharedMemory;

namespace Leasehold.Tests.Transport.SharedMemory;

/// <summary>
/// <see cref="ShmOneSided"/> between two "processes" (two instances on one directory, each with its own
/// mappings): operations on another node's key map its file and land there; rotation and dropping keep
/// <see cref="OneSidedMemory"/>'s meaning. Deterministic scheduler, one seed.
/// </summary>
public class ShmOneSidedTests
{
    private const string Cluster = "bank";
    private static readonly Action<object> Count = static box => ((StrongBox<int>)box).Value++;

    [Fact]
    public void An_operation_on_another_nodes_key_lands_in_its_file_and_completes_on_the_requesters_mailbox()
    {
        using var dir = new ShmTestDirectory();
        var scheduler = new DeterministicScheduler(seed: 1);
        using var owner = new ShmOneSided(scheduler, Cluster, dir.Path, size: ShmTestDirectory.Small);
        using var other = new ShmOneSided(scheduler, Cluster, dir.Path, size: ShmTestDirectory.Small);
        var key = new RegionKey(Node: 1, Incarnation: 4);
        var region = owner.CreateRegion(key, maxValueBytes: 1024);
        Assert.Equal(dir.PathFor(Cluster, key), region.Path);
        var requester = scheduler.CreateMailbox("worker-0");
        var seen = new List<string>();

        other.WriteValueThenFlag(key, 9, [1, 2], 0, requester, () => seen.Add("write"));
        Assert.Equal(0, region.Flag(9)); // applied in the caller's context, at the call
        other.CompareAndSwapFlag(key, 9, 0, 1, requester, swapped => seen.Add($"cas {swapped}"));
        other.FetchAndAdd(key, 9, 5, requester, old => seen.Add($"faa {old}"));
        other.Read(key, 9, requester, s => seen.Add($"read {s.Flag} {s.Value!.Length}"));
        region.WriteFlag(9, 7); // the owner, directly, on the same bytes
        Assert.True(other.TryReadAtOnce(key, 9, out var now));
        Assert.Equal(7, now.Flag);
        Assert.Empty(seen); // completions wait on the requester's mailbox
        scheduler.RunToQuiescence();

        Assert.Null(scheduler.Fault);
        Assert.Equal(["write", "cas True", "faa 2", "read 1 2"], seen);
        Assert.Equal(5, other.Operations);
        Assert.Equal(1, other.RegionCount); // its mapping of the owner's file
        Assert.True(other.HoldsRegion(key));
    }

    [Fact]
    public void A_fenced_incarnations_late_write_lands_in_its_own_file_which_the_new_incarnation_never_reads()
    {
        using var dir = new ShmTestDirectory();
        var scheduler = new DeterministicScheduler(seed: 1);
        using var owner = new ShmOneSided(scheduler, Cluster, dir.Path, size: ShmTestDirectory.Small);
        using var fenced = new ShmOneSided(scheduler, Cluster, dir.Path, size: ShmTestDirectory.Small);
        var old = new RegionKey(2, 1);
        var oldRegion = owner.CreateRegion(old, 1024);
        var requester = scheduler.CreateMailbox("fenced");
        fenced.WriteFlag(old, 3, 1, requester, () => { }); // maps the old file

        // The rollback: fresh files for incarnation 2; incarnation 1 retired everywhere.
        var fresh = new RegionKey(2, 2);
        var freshRegion = owner.CreateRegion(fresh, 1024);
        Assert.Equal(1, owner.RetireIncarnation(1));
        Assert.Equal(1, fenced.RetireIncarnation(1));
        var late = new StrongBox<int>();
        fenced.WriteValueThenFlag(old, 3, [9], 2, requester, Count, late);
        scheduler.RunToQuiescence();

        Assert.Equal(1, late.Value); // the fenced process sees success
        Assert.Equal(1, fenced.LandedInRetired);
        Assert.True(fenced.IsRetired(old));
        Assert.True(owner.IsRetired(old));
        Assert.False(owner.IsRetired(fresh));
        Assert.Equal(new byte[] { 9 }, oldRegion.Read(3).Value); // it went to memory nobody reads
        Assert.Equal(RegionMemory.NoOwner, freshRegion.Flag(3));
        Assert.NotEqual(oldRegion.Path, freshRegion.Path);
    }

    [Fact]
    public void Dropping_an_incarnation_deletes_its_own_files_and_its_keys_then_lead_nowhere()
    {
        using var dir = new ShmTestDirectory();
        var scheduler = new DeterministicScheduler(seed: 1);
        using var owner = new ShmOneSided(scheduler, Cluster, dir.Path, size: ShmTestDirectory.Small);
        using var other = new ShmOneSided(scheduler, Cluster, dir.Path, size: ShmTestDirectory.Small);
        var key = new RegionKey(0, 1);
        var region = owner.CreateRegion(key, 1024);
        var requester = scheduler.CreateMailbox("w");
        other.WriteValueThenFlag(key, 1, [4], 4, requester, () => { });

        Assert.Contains("still in service", Assert.Throws<InvalidOperationException>(() => owner.DropIncarnation(1)).Message);
        owner.RetireIncarnation(1);
        Assert.Equal(1, owner.DropIncarnation(1));
        Assert.False(File.Exists(region.Path));
        Assert.False(owner.HoldsRegion(key));
        // The other process still has the file mapped: its late operations land unseen until it drops the incarnation too.
        other.WriteFlag(key, 1, 5, requester, () => { });
        Assert.True(other.HoldsRegion(key));
        other.RetireIncarnation(1);
        Assert.Equal(1, other.DropIncarnation(1));
        var read = new StrongBox<SlotSnapshot>();
        other.Read(key, 1, requester, s => read.Value = s);
        var done = new StrongBox<int>();
        other.CompareAndSwapFlag(key, 1, 5, 6, requester, (_, swapped) => Assert.False(swapped), done);
        scheduler.RunToQuiescence();

        Assert.Null(scheduler.Fault);
        Assert.Equal(new SlotSnapshot(RegionMemory.NoOwner, null), read.Value);
        Assert.False(other.HoldsRegion(key));
        Assert.Equal(0, other.RegionCount);
        Assert.Contains("already registered", Assert.Throws<InvalidOperationException>(() => owner.CreateRegion(key, 1024)).Message);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void An_operation_in_flight_when_its_region_is_dropped_completes_as_a_success_that_changed_nothing()
    {
        using var dir = new ShmTestDirectory();
        var scheduler = new DeterministicScheduler(seed: 1);
        using var owner = new ShmOneSided(scheduler, Cluster, dir.Path, operationLatency: TimeSpan.FromMicroseconds(5), size: ShmTestDirectory.Small);
        var key = new RegionKey(0, 1);
        owner.CreateRegion(key, 1024);
        var requester = scheduler.CreateMailbox("w");
        var done = new StrongBox<int>();
        owner.WriteValueThenFlag(key, 1, [1], 1, requester, Count, done); // resolved now, lands after the drop
        owner.RetireIncarnation(1);
        owner.DropIncarnation(1);
        scheduler.RunToQuiescence();
        Assert.Null(scheduler.Fault);
        Assert.Equal(1, done.Value);
    }

    [Fact]
    public void A_key_whose_node_has_no_file_faults_the_run_naming_the_path()
    {
        using var dir = new ShmTestDirectory();
        var scheduler = new DeterministicScheduler(seed: 1);
        using var memory = new ShmOneSided(scheduler, Cluster, dir.Path);
        var requester = scheduler.CreateMailbox("w");
        int completed = 0;
        requester.Post(() => memory.WriteFlag(new RegionKey(3, 1), 1, 3, requester, _ => completed++, requester));
        scheduler.RunToQuiescence();
        var fault = Assert.IsType<RegionFileException>(scheduler.Fault);
        Assert.Contains(dir.PathFor(Cluster, new RegionKey(3, 1)), fault.Message);
        Assert.Contains("does not exist", fault.Message);
        Assert.Equal(0, completed);
        Assert.False(memory.HoldsRegion(new RegionKey(3, 1)));
    }

    [Fact]
    public void A_cluster_name_that_cannot_name_files_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new ShmOneSided(new DeterministicScheduler(seed: 1), "../etc"));
        Assert.Contains("cannot name region files", e.Message);
    }
}
