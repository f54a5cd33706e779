using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Tests.Transport;

/// <summary>
/// Through the serialising one-sided memory, requester and target share no array: a write carries a copy of
/// the requester's value, a read hands each reader its own. Latency, ordering and rotation stay those of the
/// memory it wraps. All in the deterministic mode, one seed, virtual time.
/// </summary>
public class SerialisingOneSidedTests
{
    private static readonly TimeSpan Latency = TimeSpan.FromMicroseconds(5);
    private static readonly RegionKey Key = new(Node: 1, Incarnation: 1);

    private static (DeterministicScheduler Scheduler, IOneSided Memory, RegionMemory Region, Mailbox Requester) Setup(
        TransportKind kind, TimeSpan latency, int seed = 1, double timerBias = 0)
    {
        var scheduler = new DeterministicScheduler(seed, timerBias: timerBias);
        var memory = Transports.CreateOneSided(kind, scheduler, latency);
        var region = new RegionMemory(owner: 1);
        memory.Register(Key, region);
        return (scheduler, memory, region, scheduler.CreateMailbox("requester"));
    }

    [Fact]
    public void The_transport_kind_picks_the_memory_in_place_or_through_the_codec()
    {
        var scheduler = new DeterministicScheduler(seed: 1);
        Assert.IsType<OneSidedMemory>(Transports.CreateOneSided(TransportKind.Inproc, scheduler, Latency));
        var serialising = Assert.IsType<SerialisingOneSided>(Transports.CreateOneSided(TransportKind.InprocSerialising, scheduler, Latency));
        Assert.Equal(Latency, serialising.OperationLatency);
        Assert.Throws<ArgumentOutOfRangeException>(() => Transports.CreateOneSided((TransportKind)99, scheduler, Latency));
    }

    [Theory]
    [InlineData(TransportKind.Inproc, new byte[] { 9, 9, 9 })]        // in place, the region copies the array when the write lands
    [InlineData(TransportKind.InprocSerialising, new byte[] { 1, 2, 3 })] // the codec copied it at issue
    public void A_value_changed_by_its_requester_after_issue_reaches_the_region_only_in_place(TransportKind kind, byte[] landed)
    {
        var (scheduler, memory, region, requester) = Setup(kind, Latency);
        var value = new byte[] { 1, 2, 3 };
        memory.WriteValueThenFlag(Key, 4, value, 7, requester, () => { });
        memory.WriteValue(Key, 5, value, requester, () => { });
        value.AsSpan().Fill(9); // breaks the rule: the array is changed before the completions run
        scheduler.RunToQuiescence();

        Assert.Null(scheduler.Fault);
        Assert.Equal(7, region.Flag(4));
        Assert.Equal(landed, region.Read(4).Value);
        Assert.Equal(landed, region.Read(5).Value);
    }

    [Fact]
    public void Each_reader_gets_its_own_array_equal_in_content_and_null_and_empty_stay_apart()
    {
        var (scheduler, memory, region, requester) = Setup(TransportKind.InprocSerialising, Latency);
        region.WriteValueThenFlag(1, [5, 6], 3);
        region.WriteValueThenFlag(2, [], 3);
        var reads = new List<SlotSnapshot>();
        for (int slot = 0; slot <= 2; slot++)
        for (int reader = 0; reader < 2; reader++)
            memory.Read(Key, slot, requester, reads.Add);
        scheduler.RunToQuiescence();

        Assert.Null(scheduler.Fault);
        Assert.Equal(6, reads.Count);
        Assert.Equal((RegionMemory.NoOwner, (byte[]?)null), (reads[0].Flag, reads[0].Value));
        Assert.Null(reads[1].Value);
        Assert.Equal([5, 6], reads[2].Value!);
        Assert.Equal([5, 6], reads[3].Value!);
        Assert.NotSame(reads[2].Value, reads[3].Value);
        Assert.Empty(reads[4].Value!);
        reads[2].Value![0] = 0; // a reader's array is its own: neither the region nor the other reader sees this
        Assert.Equal([5, 6], reads[3].Value!);
        Assert.Equal(new byte[] { 5, 6 }, region.Read(1).Value);
    }

    [Fact]
    public void A_read_at_once_goes_through_the_codec_and_returns_a_copy()
    {
        var (_, memory, region, _) = Setup(TransportKind.InprocSerialising, TimeSpan.Zero);
        var serialising = (SerialisingOneSided)memory;
        region.WriteValueThenFlag(3, [4, 2], 8);

        Assert.True(memory.TryReadAtOnce(Key, 3, out var first));
        long carried = serialising.BytesCarried;
        Assert.True(memory.TryReadAtOnce(Key, 3, out var second));
        Assert.Equal(8, first.Flag);
        Assert.Equal([4, 2], second.Value!);
        Assert.NotSame(first.Value, second.Value);
        Assert.Equal(carried * 2, serialising.BytesCarried); // a request frame and a completion frame for each
        Assert.True(carried > 2 * WireHeader.Size);
        Assert.Equal(2, memory.Operations);
    }

    [Fact]
    public void A_read_at_once_with_latency_reads_nothing_and_encodes_nothing()
    {
        var (_, memory, _, _) = Setup(TransportKind.InprocSerialising, Latency);
        Assert.False(memory.TryReadAtOnce(Key, 3, out var snapshot));
        Assert.Equal(default, snapshot);
        Assert.Equal(0, ((SerialisingOneSided)memory).BytesCarried);
        Assert.Equal(0, memory.Operations);
    }

    [Theory]
    [InlineData(TransportKind.Inproc)]
    [InlineData(TransportKind.InprocSerialising)]
    public void Operations_land_one_latency_after_issue_and_complete_in_issue_order(TransportKind kind)
    {
        var (scheduler, memory, region, requester) = Setup(kind, Latency, seed: 3, timerBias: 0.5);
        var busy = scheduler.CreateMailbox("busy"); // other work, so the timer bias lands operations between its steps
        for (int i = 0; i < 50; i++) busy.Post(() => { });

        var order = new List<string>();
        memory.WriteValueThenFlag(Key, 1, [1], 4, requester, () => order.Add("write"));
        memory.CompareAndSwapFlag(Key, 1, 4, 5, requester, swapped => order.Add($"cas {swapped}"));
        memory.CompareAndSwapFlag(Key, 1, 4, 9, requester, swapped => order.Add($"cas {swapped}"));
        memory.FetchAndAdd(Key, 1, 10, requester, before => order.Add($"faa {before}"));
        memory.Read(Key, 1, requester, s => order.Add($"read {s.Flag} {s.Value![0]}"));
        memory.WriteFlag(Key, 1, 6, requester, () => order.Add("flag"));
        memory.WriteValue(Key, 1, [2], requester, () => order.Add("value"));
        memory.FetchAndAdd(Key, 1, 1, requester, before => order.Add($"faa {before}"));
        Assert.Equal(new SlotSnapshot(RegionMemory.NoOwner, null), region.Read(1)); // nothing has arrived yet

        scheduler.RunToQuiescence();
        Assert.Null(scheduler.Fault);
        Assert.Equal(["write", "cas True", "cas False", "faa 2", "read 5 1", "flag", "value", "faa 14"], order);
        Assert.Equal(5_000, scheduler.VirtualTime.Nanoseconds);
        Assert.Equal(8, memory.Operations);
        Assert.Equal(6, region.Flag(1));
        Assert.Equal(new byte[] { 2 }, region.Read(1).Value);
    }

    [Theory]
    [InlineData(TransportKind.Inproc)]
    [InlineData(TransportKind.InprocSerialising)]
    public void A_write_through_a_retired_key_completes_but_is_invisible_through_the_new_key(TransportKind kind)
    {
        var (scheduler, memory, oldRegion, requester) = Setup(kind, Latency);
        int completed = 0;
        memory.WriteValueThenFlag(Key, 9, [1], 2, requester, () => completed++); // issued before the rollback, lands after it

        var fresh = Key with { Incarnation = 2 };
        var freshRegion = new RegionMemory(owner: 1);
        memory.Register(fresh, freshRegion);
        Assert.Equal(1, memory.RetireIncarnation(1));
        memory.WriteValueThenFlag(Key, 9, [2], 2, requester, () => completed++);
        memory.WriteFlag(Key, 10, 2, requester, () => completed++);
        SlotSnapshot? seen = null;
        scheduler.RunToQuiescence();
        memory.Read(fresh, 9, requester, s => seen = s);
        scheduler.RunToQuiescence();

        Assert.Null(scheduler.Fault);
        Assert.Equal(3, completed); // the fenced requester sees success
        Assert.Equal(3, memory.LandedInRetired);
        Assert.True(memory.IsRetired(Key));
        Assert.False(memory.IsRetired(fresh));
        Assert.Equal(new SlotSnapshot(RegionMemory.NoOwner, null), seen);
        Assert.Equal(RegionMemory.NoOwner, freshRegion.Flag(10));
        Assert.Equal(new byte[] { 2 }, oldRegion.Read(9).Value); // it went to memory nobody reads
    }

    [Theory]
    [InlineData(TransportKind.Inproc)]
    [InlineData(TransportKind.InprocSerialising)]
    public void Through_a_dropped_incarnations_key_a_write_completes_and_a_read_sees_an_empty_slot(TransportKind kind)
    {
        var (scheduler, memory, _, requester) = Setup(kind, Latency);
        var fresh = Key with { Incarnation = 2 };
        memory.Register(fresh, new RegionMemory(owner: 1));
        memory.RetireIncarnation(1);
        Assert.Equal(1, memory.DropIncarnation(1));
        Assert.False(memory.HoldsRegion(Key));
        Assert.True(memory.HoldsRegion(fresh));
        Assert.Equal(1, memory.RegionCount);

        int written = 0;
        SlotSnapshot? seen = null;
        memory.WriteValueThenFlag(Key, 3, [1], 2, requester, () => written++);
        memory.Read(Key, 3, requester, s => seen = s);
        scheduler.RunToQuiescence();

        Assert.Null(scheduler.Fault);
        Assert.Equal(1, written);
        Assert.Equal(new SlotSnapshot(RegionMemory.NoOwner, null), seen);
    }

    [Fact]
    public void The_state_forms_pass_their_state_and_result_through()
    {
        var (scheduler, memory, region, requester) = Setup(TransportKind.InprocSerialising, TimeSpan.Zero);
        var seen = new List<string>();
        Action<object> acked = tag => seen.Add((string)tag);
        memory.WriteValueThenFlag(Key, 2, [1], 3, requester, acked, "write");
        memory.WriteValue(Key, 2, [7, 7], requester, acked, "value");
        memory.WriteFlag(Key, 2, 4, requester, acked, "flag");
        memory.CompareAndSwapFlag(Key, 2, 4, 5, requester, static (o, swapped) => ((List<string>)o).Add($"cas {swapped}"), seen);
        memory.FetchAndAdd(Key, 2, 1UL << 40, requester, static (o, before) => ((List<string>)o).Add($"faa {before}"), seen);
        memory.Read(Key, 2, requester, static (o, s) => ((List<string>)o).Add($"read {s.Flag} {s.Value!.Length}"), seen);
        scheduler.RunToQuiescence();

        Assert.Null(scheduler.Fault);
        Assert.Equal(["write", "value", "flag", "cas True", "faa 4", "read 5 2"], seen);
        Assert.Equal(4 + (1UL << 40), region.Header(2).Sequence); // the delta crossed the wire whole
    }

    [Fact]
    public void A_write_beyond_the_wires_value_limit_is_refused_at_issue_naming_the_field_and_lands_nowhere()
    {
        var scheduler = new DeterministicScheduler(seed: 1);
        var memory = new SerialisingOneSided(new OneSidedMemory(scheduler, Latency), WireLimits.Default with { MaxValueBytes = 8 });
        var region = new RegionMemory(owner: 1);
        memory.Register(Key, region);
        var requester = scheduler.CreateMailbox("requester");

        var e = Assert.Throws<InvalidOperationException>(() => memory.WriteValue(Key, 1, new byte[9], requester, () => { }));
        Assert.Contains("WriteValueRequest.Value", e.Message);
        e = Assert.Throws<InvalidOperationException>(() => memory.WriteFlag(Key, -1, 2, requester, () => { }));
        Assert.Contains("WriteFlagRequest.Slot", e.Message);
        Assert.False(scheduler.Step());
        Assert.Equal(0, memory.Operations);
        Assert.Null(region.Read(1).Value);
    }

    [Fact]
    public void A_completion_the_wire_refuses_faults_the_run_on_the_requesters_mailbox()
    {
        // The region holds more than the wire carries: the read lands, and its completion cannot come back.
        var scheduler = new DeterministicScheduler(seed: 1);
        var memory = new SerialisingOneSided(new OneSidedMemory(scheduler, Latency), WireLimits.Default with { MaxValueBytes = 8 });
        var region = new RegionMemory(owner: 1);
        memory.Register(Key, region);
        region.WriteValueThenFlag(1, new byte[9], 1);
        bool delivered = false;
        memory.Read(Key, 1, scheduler.CreateMailbox("requester"), _ => delivered = true);
        scheduler.RunToQuiescence();

        var fault = Assert.IsType<InvalidOperationException>(scheduler.Fault);
        Assert.Contains("SnapshotCompletion.Value", fault.Message);
        Assert.False(delivered);
        Assert.Equal(1, memory.Operations);
    }
}
