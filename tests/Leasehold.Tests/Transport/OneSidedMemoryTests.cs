using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport.Regions;
using Xunit.Abstractions;

namespace Leasehold.Tests.Transport;

/// <summary>
/// One-sided operations addressed by region key: applied when they arrive, completed on the requester's
/// mailbox, fenced by region rotation. All in the deterministic mode, one seed, virtual time.
/// </summary>
public class OneSidedMemoryTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Latency = TimeSpan.FromMicroseconds(5);
    private static readonly Action<object> Count = static box => ((StrongBox<int>)box).Value++;

    [Fact]
    public void A_write_through_a_retired_key_completes_but_is_invisible_through_the_new_key()
    {
        var scheduler = new DeterministicScheduler(seed: 1);
        var memory = new OneSidedMemory(scheduler, Latency);
        var requester = scheduler.CreateMailbox("fenced");
        var old = new RegionKey(Node: 2, Incarnation: 1);
        var oldRegion = new RegionMemory(owner: 2);
        memory.Register(old, oldRegion);
        var inFlight = new StrongBox<int>();
        memory.WriteValueThenFlag(old, 9, [1], flag: 2, requester, Count, inFlight); // issued before the rollback, lands after it

        // The rollback: the next incarnation registers a fresh region and the old key is retired.
        var fresh = new RegionKey(Node: 2, Incarnation: 2);
        var freshRegion = new RegionMemory(owner: 2);
        memory.Register(fresh, freshRegion);
        Assert.Equal(1, memory.RetireIncarnation(1));
        var late = new StrongBox<int>();
        memory.WriteValueThenFlag(old, 9, [2], flag: 2, requester, Count, late);
        memory.WriteFlag(old, 10, 2, requester, Count, late);
        scheduler.RunToQuiescence();

        Assert.Null(scheduler.Fault);
        Assert.Equal((1, 2), (inFlight.Value, late.Value)); // the fenced process sees success
        Assert.Equal(3, memory.LandedInRetired);
        Assert.True(memory.IsRetired(old));
        Assert.False(memory.IsRetired(fresh));
        var seen = new StrongBox<SlotSnapshot>();
        memory.Read(fresh, 9, requester, static (box, s) => ((StrongBox<SlotSnapshot>)box).Value = s, seen);
        scheduler.RunToQuiescence();
        Assert.Equal(new SlotSnapshot(RegionMemory.NoOwner, null), seen.Value);
        Assert.Equal(RegionMemory.NoOwner, freshRegion.Flag(10));
        Assert.Equal(new byte[] { 2 }, oldRegion.Read(9).Value); // it went to memory nobody reads
    }

    [Fact]
    public void An_operation_through_a_key_never_registered_faults_the_run_and_names_the_key()
    {
        var scheduler = new DeterministicScheduler(seed: 1);
        var memory = new OneSidedMemory(scheduler, Latency);
        memory.Register(new RegionKey(0, 1), new RegionMemory(owner: 0));
        var requester = scheduler.CreateMailbox("worker");
        int completed = 0;
        requester.Post(() => memory.WriteFlag(new RegionKey(0, 2), 1, 3, requester, _ => completed++, requester));
        scheduler.RunToQuiescence();

        var fault = Assert.IsType<UnknownRegionKeyException>(scheduler.Fault);
        Assert.Equal(new RegionKey(0, 2), fault.Key);
        Assert.Contains("node 0, incarnation 2", fault.Message);
        Assert.Equal(0, completed);
        Assert.Equal(0, memory.Operations);
        Assert.Throws<UnknownRegionKeyException>(() => memory.Retire(new RegionKey(5, 5)));
    }

    [Fact]
    public void A_key_cannot_be_registered_twice()
    {
        var memory = new OneSidedMemory(new DeterministicScheduler(seed: 1), TimeSpan.Zero);
        memory.Register(new RegionKey(1, 1), new RegionMemory(owner: 1));
        var e = Assert.Throws<InvalidOperationException>(() => memory.Register(new RegionKey(1, 1), new RegionMemory(owner: 1)));
        Assert.Contains("already registered", e.Message);
    }

    [Fact]
    public void An_oversized_write_is_refused_at_issue_and_nothing_is_scheduled()
    {
        var scheduler = new DeterministicScheduler(seed: 1);
        var memory = new OneSidedMemory(scheduler, Latency);
        var key = new RegionKey(0, 1);
        var region = new RegionMemory(owner: 0, maxValueBytes: 16);
        memory.Register(key, region);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => memory.WriteValue(key, 1, new byte[17], scheduler.CreateMailbox("w"), _ => { }, key));
        Assert.Contains("17 bytes", e.Message);
        Assert.Contains("16 bytes", e.Message);
        Assert.False(scheduler.Step());
        Assert.Equal(0, memory.Operations);
        Assert.Null(region.Read(1).Value);
    }

    [Fact]
    public void Operations_land_when_they_arrive_and_complete_in_issue_order()
    {
        var scheduler = new DeterministicScheduler(seed: 3, timerBias: 0.5);
        var memory = new OneSidedMemory(scheduler, Latency);
        var key = new RegionKey(1, 1);
        var region = new RegionMemory(owner: 1);
        memory.Register(key, region);
        var requester = scheduler.CreateMailbox("requester");
        var busy = scheduler.CreateMailbox("busy"); // other work, so the timer bias lands operations between its steps
        for (int i = 0; i < 50; i++) busy.Post(() => { });

        var order = new List<string>();
        Action<object> wrote = tag => order.Add((string)tag);
        memory.WriteValueThenFlag(key, 1, [1], 4, requester, wrote, "write");
        memory.CompareAndSwapFlag(key, 1, 4, 5, requester, static (o, swapped) => ((List<string>)o).Add($"cas {swapped}"), order);
        memory.CompareAndSwapFlag(key, 1, 4, 9, requester, static (o, swapped) => ((List<string>)o).Add($"cas {swapped}"), order);
        memory.FetchAndAdd(key, 1, 10, requester, static (o, old) => ((List<string>)o).Add($"faa {old}"), order);
        memory.Read(key, 1, requester, static (o, s) => ((List<string>)o).Add($"read {s.Flag} {s.Value![0]}"), order);
        memory.WriteFlag(key, 1, 6, requester, wrote, "flag");
        memory.WriteValue(key, 1, [2], requester, wrote, "value");
        Assert.Equal(new SlotSnapshot(RegionMemory.NoOwner, null), region.Read(1)); // nothing has arrived yet
        Assert.Equal(7, memory.Operations);

        scheduler.RunToQuiescence();
        Assert.Null(scheduler.Fault);
        Assert.Equal(["write", "cas True", "cas False", "faa 2", "read 5 1", "flag", "value"], order);
        Assert.Equal(5_000, scheduler.VirtualTime.Nanoseconds); // all seven arrived together, one latency after issue
        Assert.Equal(6, region.Flag(1));
        Assert.Equal(new byte[] { 2 }, region.Read(1).Value);
    }

    [Fact]
    public void At_zero_latency_an_operation_lands_inline_and_completes_on_the_requesters_mailbox()
    {
        var scheduler = new DeterministicScheduler(seed: 1);
        var memory = new OneSidedMemory(scheduler, TimeSpan.Zero);
        var key = new RegionKey(1, 1);
        var region = new RegionMemory(owner: 1);
        memory.Register(key, region);
        var requester = scheduler.CreateMailbox("requester");
        var done = new StrongBox<int>();
        memory.WriteValueThenFlag(key, 1, [7], 3, requester, Count, done);
        Assert.Equal(3, region.Flag(1)); // landed at the call
        Assert.Equal(0, done.Value);     // completion not yet run: it waits on the requester's mailbox
        Assert.True(memory.TryReadAtOnce(key, 1, out var snapshot));
        Assert.Equal(3, snapshot.Flag);
        Assert.Equal(new byte[] { 7 }, snapshot.Value);
        scheduler.RunToQuiescence();
        Assert.Equal(1, done.Value);
        Assert.Equal(2, memory.Operations);
    }

    [Fact]
    public void The_closure_forms_complete_with_their_results()
    {
        var scheduler = new DeterministicScheduler(seed: 2);
        var memory = new OneSidedMemory(scheduler, Latency);
        var key = new RegionKey(1, 1);
        memory.Register(key, new RegionMemory(owner: 1));
        var requester = scheduler.CreateMailbox("requester");
        var seen = new List<string>();
        memory.WriteValueThenFlag(key, 1, [1], 2, requester, () => seen.Add("write"));
        memory.WriteValue(key, 1, [3], requester, () => seen.Add("value"));
        memory.WriteFlag(key, 1, 4, requester, () => seen.Add("flag"));
        memory.CompareAndSwapFlag(key, 1, 4, 5, requester, swapped => seen.Add($"cas {swapped}"));
        memory.FetchAndAdd(key, 1, 1, requester, old => seen.Add($"faa {old}"));
        memory.Read(key, 1, requester, s => seen.Add($"read {s.Flag} {s.Value![0]}"));
        scheduler.RunToQuiescence();
        Assert.Null(scheduler.Fault);
        Assert.Equal(["write", "value", "flag", "cas True", "faa 4", "read 5 3"], seen);
    }

    [Fact]
    public void A_negative_slot_is_refused_at_issue()
    {
        var scheduler = new DeterministicScheduler(seed: 1);
        var memory = new OneSidedMemory(scheduler, Latency);
        var key = new RegionKey(1, 1);
        memory.Register(key, new RegionMemory(owner: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => memory.WriteFlag(key, -1, 0, scheduler.CreateMailbox("w"), () => { }));
        Assert.Equal(0, memory.Operations);
        Assert.False(scheduler.Step());
    }

    [Fact]
    public void A_zero_latency_write_that_fits_allocates_nothing_and_a_read_only_its_copy_and_completion()
    {
        var scheduler = new DeterministicScheduler(seed: 1);
        var memory = new OneSidedMemory(scheduler, TimeSpan.Zero);
        var key = new RegionKey(1, 1);
        memory.Register(key, new RegionMemory(owner: 1));
        var requester = scheduler.CreateMailbox("requester");
        var value = new byte[8];
        var done = new StrongBox<int>();
        Action<object, SlotSnapshot> onRead = static (_, _) => { };
        const int n = 10_000;
        void Writes() { for (int i = 0; i < n; i++) { memory.WriteValueThenFlag(key, i % 64, value, 1, requester, Count, done); scheduler.Step(); } }
        void Reads() { for (int i = 0; i < n; i++) { memory.Read(key, i % 64, requester, onRead, done); scheduler.Step(); } }
        Writes(); Reads(); // warm: slots, extents, the mailbox queue's segments and the JIT exist

        long before = GC.GetAllocatedBytesForCurrentThread();
        Writes();
        double perWrite = (double)(GC.GetAllocatedBytesForCurrentThread() - before) / n;
        before = GC.GetAllocatedBytesForCurrentThread();
        Reads();
        double perRead = (double)(GC.GetAllocatedBytesForCurrentThread() - before) / n;

        Assert.Equal(2 * n, done.Value); // every write completed
        output.WriteLine($"zero latency, 8-byte values: {perWrite:F2} B per write, {perRead:F2} B per read");
        Assert.True(perWrite < 1, $"{perWrite:F2} bytes allocated per zero-latency write");
        // An 8-byte copy (32 B) and one completion object (about 40 B); generous, as the runtime's sizes may move.
        Assert.True(perRead is > 32 and < 128, $"{perRead:F2} bytes allocated per zero-latency read");
    }

    private sealed class StrongBox<T>
    {
        public T? Value;
    }
}
