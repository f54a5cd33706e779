using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Tests.Transport.Conformance;

/// <summary>
/// What every transport (messages and one-sided operations) must do, whatever carries the bytes: each link in
/// order under concurrent senders; compare-and-swap atomic and fetch-and-add exact under contention from every
/// process; value-then-flag visibility; a peer that disappears mid-operation; malformed and oversized frames;
/// bounded per-link queues. A transport derives a class that builds its cluster (<see cref="StartAsync"/>) and,
/// for the byte-level tests, an intruder and a stalled peer; tests whose capability a transport lacks skip.
/// Timeouts here are hang guards only: nothing asserts how long anything took.
/// </summary>
public abstract class TransportConformanceTests : IAsyncLifetime
{
    protected static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);
    private readonly List<IAsyncDisposable> _owned = [];

    /// <summary>Starts a cluster of <paramref name="processes"/> processes, linked and ready.</summary>
    protected abstract Task<ConformanceCluster> StartAsync(int processes);

    /// <summary>
    /// An authenticated connection into a process, playing one of its peers, on which the test writes raw bytes;
    /// null when this transport carries no bytes (the malformed-frame tests then skip).
    /// </summary>
    protected virtual Task<Intruder?> IntrudeAsync() => Task.FromResult<Intruder?>(null);

    /// <summary>A process whose peer authenticated and then stopped reading; null when this transport has no bounded queues.</summary>
    protected virtual Task<StalledLink?> StallAsync(long boundBytes) => Task.FromResult<StalledLink?>(null);

    /// <summary>
    /// Makes <paramref name="owner"/>'s region of <paramref name="key"/> and registers it with its one-sided layer;
    /// the test reads the owner's view of it directly. The shared-memory transport makes a mapped file instead.
    /// </summary>
    protected virtual IRegion CreateRegion(ConformanceProcess owner, RegionKey key)
    {
        var region = new RegionMemory(owner: key.Node);
        owner.OneSided.Register(key, region);
        return region;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (int i = _owned.Count - 1; i >= 0; i--) await _owned[i].DisposeAsync();
    }

    protected T Own<T>(T disposable) where T : IAsyncDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    private async Task<ConformanceCluster> Cluster(int processes) => Own(await StartAsync(processes));

    private static readonly RegionKey Region0 = new(Node: 0, Incarnation: 1);

    [Fact]
    public async Task Messages_on_each_link_arrive_in_the_order_sent_with_several_sending_threads()
    {
        var cluster = await Cluster(3);
        const int perSender = 3000;
        var recorder = new Recorder();
        cluster[0].Transport.Register(NodeId.Worker(0), new Incarnation(1), cluster[0].Scheduler.CreateMailbox("worker-0"), recorder);
        // Every other node of the cluster sends to worker-0, each from its own thread: one link in process, four across.
        var senders = new List<Endpoint> { cluster[0].Transport.Register(NodeId.CacheServer(0), new Incarnation(1), cluster[0].Scheduler.CreateMailbox("server-0"), new Recorder()) };
        for (int p = 1; p < 3; p++)
        {
            senders.Add(cluster[p].Transport.Register(NodeId.Worker(p), new Incarnation(1), cluster[p].Scheduler.CreateMailbox($"worker-{p}"), new Recorder()));
            senders.Add(cluster[p].Transport.Register(NodeId.CacheServer(p), new Incarnation(1), cluster[p].Scheduler.CreateMailbox($"server-{p}"), new Recorder()));
        }
        var all = recorder.Reached(senders.Count * perSender);
        await Task.WhenAll(senders.Select(s => Task.Run(() =>
        {
            for (int i = 0; i < perSender; i++) s.Send(NodeId.Worker(0), new PeerExecutedMsg(i));
        }))).WaitAsync(HangGuard);
        await all.WaitAsync(HangGuard);

        foreach (var sender in senders)
        {
            var sequence = recorder.Received.Where(m => m.From == sender.Node).Select(m => ((PeerExecutedMsg)m).Batch).ToList();
            Assert.Equal(Enumerable.Range(0, perSender).Select(i => (long)i), sequence);
        }
        Assert.Equal(senders.Count * perSender, recorder.Received.Count);
    }

    [Fact]
    public async Task Compare_and_swap_has_exactly_one_winner_per_round_and_fetch_and_add_totals_exactly_under_contention()
    {
        var cluster = await Cluster(3);
        var region = CreateRegion(cluster[0], Region0);
        const int rounds = 300, adds = 400, addSlot = 100_000;
        var requesters = cluster.Processes.Select((p, i) => (Process: p, Id: i + 1, Mailbox: p.Scheduler.CreateMailbox($"requester-{i}"))).ToList();

        var raced = await Task.WhenAll(requesters.Select(r => Task.Run(async () =>
        {
            // Every round's swap is issued before any completes: the requesters race on each slot.
            var swaps = Enumerable.Range(0, rounds).Select(slot => r.Process.OneSided.CompareAndSwapAsync(Region0, slot, RegionMemory.NoOwner, r.Id, r.Mailbox)).ToList();
            var fetched = Enumerable.Range(0, adds).Select(_ => r.Process.OneSided.FetchAndAddAsync(Region0, addSlot, 1, r.Mailbox)).ToList();
            return (r.Id, Won: await Task.WhenAll(swaps), Before: await Task.WhenAll(fetched));
        }))).WaitAsync(HangGuard);

        for (int slot = 0; slot < rounds; slot++)
        {
            var winners = raced.Where(r => r.Won[slot]).Select(r => r.Id).ToList();
            Assert.Single(winners);
            Assert.Equal(winners[0], region.Flag(slot));
        }
        var befores = raced.SelectMany(r => r.Before).Order().ToList();
        ulong first = befores[0];
        Assert.Equal(Enumerable.Range(0, requesters.Count * adds).Select(i => first + (ulong)i), befores); // each addition saw a distinct sequence
        Assert.Equal(first + (ulong)(requesters.Count * adds), region.Header(addSlot).Sequence);
    }

    [Fact]
    public async Task A_reader_that_sees_a_writers_flag_sees_the_value_written_before_it()
    {
        var cluster = await Cluster(3);
        var region = CreateRegion(cluster[0], Region0);
        const int writes = 400, slot = 7;
        var writer = cluster[1].Scheduler.CreateMailbox("writer");
        var reader = cluster[2].Scheduler.CreateMailbox("reader");
        static byte[] ValueOf(int k) => Enumerable.Range(0, 64 + k % 512).Select(i => (byte)(k + i)).ToArray();

        var writing = Task.Run(async () =>
        {
            for (int k = 1; k <= writes; k++) await cluster[1].OneSided.WriteValueThenFlagAsync(Region0, slot, ValueOf(k), k, writer);
        });
        int seen = 0, checkedReads = 0;
        await Task.Run(async () =>
        {
            while (seen < writes)
            {
                var snapshot = await cluster[2].OneSided.ReadAsync(Region0, slot, reader);
                if (snapshot.Flag <= 0) continue;
                Assert.Equal(ValueOf(snapshot.Flag), snapshot.Value);
                Assert.True(snapshot.Flag >= seen, $"the flag went back from {seen} to {snapshot.Flag}");
                seen = snapshot.Flag;
                checkedReads++;
            }
        }).WaitAsync(HangGuard);
        await writing.WaitAsync(HangGuard);
        Assert.True(checkedReads > 0);
    }

    [SkippableFact]
    public async Task A_peer_that_disappears_mid_operation_loses_its_link_once_and_nothing_hangs()
    {
        var cluster = await Cluster(2);
        Skip.IfNot(cluster.HasLinks, "this transport has no links to lose");
        CreateRegion(cluster[0], Region0);
        var requester = cluster[1].Scheduler.CreateMailbox("requester");
        var sender = cluster[1].Transport.Register(NodeId.Worker(1), new Incarnation(1), cluster[1].Scheduler.CreateMailbox("worker-1"), new Recorder());
        // Operations in flight when the peer goes: some complete, the rest never do (their batch fails on the loss).
        var inFlight = Enumerable.Range(0, 2000).Select(i => cluster[1].OneSided.FetchAndAddAsync(Region0, 1, 1, requester)).ToList();
        await cluster.KillAsync(0);
        var reason = await cluster[1].LinkLostTo(cluster[0].Name).WaitAsync(HangGuard);
        Assert.False(string.IsNullOrWhiteSpace(reason));

        // After the loss, sends and operations to the lost peer return at once: dropped, never waiting.
        await Task.Run(() =>
        {
            for (int i = 0; i < 10_000; i++) sender.Send(NodeId.Worker(0), new PeerExecutedMsg(i));
            for (int i = 0; i < 1000; i++) cluster[1].OneSided.FetchAndAdd(Region0, 1, 1, requester, static (_, _) => { }, requester);
        }).WaitAsync(HangGuard);
        Assert.Single(cluster[1].LinksLost);
        Assert.Equal(cluster[0].Name, cluster[1].LinksLost[0].Peer);
        Assert.DoesNotContain(inFlight, t => t.IsFaulted);
    }

    public static TheoryData<string, string> BadFrames => new()
    {
        { "oversized", "Oversized" },
        { "bad-magic", "BadMagic" },
        { "unknown-kind", "UnknownKind" },
        { "garbage-body", "Malformed" },
        { "impersonation", "impersonation" },
        { "misrouted", "misrouted" },
    };

    [SkippableTheory]
    [MemberData(nameof(BadFrames))]
    public async Task A_malformed_or_oversized_frame_fences_the_link_with_its_cause_and_delivers_nothing(string frame, string cause)
    {
        var intruder = await IntrudeAsync();
        Skip.If(intruder is null, "this transport carries no bytes to forge");
        Own(intruder);
        var bytes = BadFrame.Of(frame, intruder.PlaysNode, intruder.Target.Node);
        await intruder.Stream.WriteAsync(bytes);
        await intruder.Stream.FlushAsync();

        var reason = await intruder.TargetProcess.LinkLostTo(intruder.Plays).WaitAsync(HangGuard);
        Assert.Contains(cause, reason);
        Assert.Empty(intruder.TargetRecorder.Received);
        Assert.Single(intruder.TargetProcess.LinksLost);
    }

    [SkippableFact]
    public async Task A_peer_that_stops_reading_makes_senders_wait_at_the_queue_bound_and_memory_stays_bounded()
    {
        const long bound = 1 << 20;
        var stalled = await StallAsync(bound);
        Skip.If(stalled is null, "this transport has no bounded byte queues");
        Own(stalled);
        const int messages = 4000;
        var large = new WorkerFailedMsg(new string('x', 32 << 10)); // 64 KiB on the wire: 256 MiB if nothing waited
        int sent = 0;
        var sending = Task.Run(() =>
        {
            for (int i = 0; i < messages; i++)
            {
                stalled.Sender.Send(stalled.To, large with { });
                Interlocked.Increment(ref sent);
            }
        });
        // The sender must come to wait inside Send: the only way out of this loop, bar the hang guard.
        await Until(() => stalled.WaitingSenders() > 0);
        Assert.False(sending.IsCompleted);
        Assert.True(stalled.QueuedBytes() <= bound, $"{stalled.QueuedBytes()} bytes queued; the bound is {bound}");
        long admitted = Volatile.Read(ref sent) * 64L << 10;
        Assert.True(admitted < 64 << 20, $"{admitted} bytes went in before the sender waited"); // the queue, the writer's burst and the sockets' buffers

        await stalled.LoseAsync(); // the peer goes: the waiting sender wakes, and the rest is dropped
        await sending.WaitAsync(HangGuard);
        Assert.True(stalled.Dropped() > 0);
    }

    private static async Task Until(Func<bool> condition)
    {
        using var guard = new CancellationTokenSource(HangGuard);
        while (!condition()) await Task.Delay(10, guard.Token);
    }
}

/// <summary>An authenticated raw connection into <see cref="TargetProcess"/>, playing its peer <see cref="Plays"/> (which hosts <see cref="PlaysNode"/>).</summary>
public sealed class Intruder(ConformanceProcess targetProcess, Endpoint target, string plays, NodeId playsNode, Stream stream, Func<ValueTask> dispose) : IAsyncDisposable
{
    public ConformanceProcess TargetProcess { get; } = targetProcess;
    /// <summary>A node of the target, registered with <see cref="TargetRecorder"/> as its sink.</summary>
    public Endpoint Target { get; } = target;
    internal Recorder TargetRecorder { get; init; } = new();
    public string Plays { get; } = plays;
    public NodeId PlaysNode { get; } = playsNode;
    public Stream Stream { get; } = stream;
    public ValueTask DisposeAsync() => dispose();
}

/// <summary>A sender whose link's peer stopped reading, and what the test reads of its queue.</summary>
public sealed class StalledLink(Endpoint sender, NodeId to, Func<int> waitingSenders, Func<long> queuedBytes, Func<long> dropped, Func<Task> lose, Func<ValueTask> dispose) : IAsyncDisposable
{
    public Endpoint Sender { get; } = sender;
    public NodeId To { get; } = to;
    public Func<int> WaitingSenders { get; } = waitingSenders;
    public Func<long> QueuedBytes { get; } = queuedBytes;
    public Func<long> Dropped { get; } = dropped;
    public Func<Task> LoseAsync { get; } = lose;
    public ValueTask DisposeAsync() => dispose();
}
