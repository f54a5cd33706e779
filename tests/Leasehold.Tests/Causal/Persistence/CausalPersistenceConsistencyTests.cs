using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Causal.Persistence;

/// <summary>Causal persistence under restarts, crashes and real-thread interleavings: what is acknowledged durable is stored, and the store stays a causal cut.</summary>
public class CausalPersistenceConsistencyTests
{
    private const string T = "t";

    private static WorkflowDefinition BlindWrite() => new WorkflowBuilder("w").WithConsistency(Consistency.Causal)
        .Function("w", f => f.Updates(T, a => "k").Body(ctx => { ctx.WriteLong(T, "k", ctx.Args.GetLong("v")); return null; }))
        .Build();

    private static WorkflowDefinition ReadK() => new WorkflowBuilder("r").WithConsistency(Consistency.Causal)
        .Function("r", f => f.Reads(T, a => "k").Body(ctx => Value.FromLong(ctx.ReadLong(T, "k"))))
        .Build();

    private static CausalResult Run(DeterministicScheduler scheduler, CausalCluster cluster, string workflow, Args args, CausalInvocation invocation) =>
        TransactionCornerCaseTests.Run(scheduler, cluster, workflow, args, invocation);

    /// <summary>
    /// A restarted cluster starts every server's clock at zero, while the store holds versions with the first
    /// life's clocks. A blind write after the restart (it declares and loads its key, but reads nothing) gets
    /// a clock below the stored one in the merge order unless a loaded clock reaches the server's clock; then the
    /// merge would keep the old value: the write acknowledged as durable (synchronous) yet never stored, and its
    /// own session reading the old value back.
    /// </summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    public void A_blind_write_after_a_restart_is_not_lost_to_the_first_lifes_versions(int seed, int servers)
    {
        var memory = new MemoryStateStore();
        var first = new DeterministicScheduler(seed);
        var life1 = new CausalCluster(new CausalOptions { Servers = servers, Durability = CausalDurability.WriteBehind, Seed = seed }, first, store: StoreRuns.Open(memory));
        life1.Register(BlindWrite());
        for (int v = 1; v <= 10; v++) Assert.True(Run(first, life1, "w", Args.Create().Set("v", v).Build(), new CausalInvocation { Placement = [0] }).Succeeded);
        Assert.Equal(10, Value.ToLong(StoreRuns.Stored(memory, T, servers)[new StateKey(T, "k")].Value));

        var second = new DeterministicScheduler(seed + 1000);
        var life2 = new CausalCluster(new CausalOptions { Servers = servers, Durability = CausalDurability.Synchronous, CheckInvariants = true, Seed = seed }, second, store: StoreRuns.Open(memory));
        life2.Register(BlindWrite());
        life2.Register(ReadK());
        var wrote = Run(second, life2, "w", Args.Create().Set("v", 99).Build(), new CausalInvocation { Placement = [servers - 1] });
        Assert.True(wrote.Succeeded, $"seed {seed}: {wrote.Reason}");
        var stored = StoreRuns.Stored(memory, T, servers)[new StateKey(T, "k")];
        Assert.True(Value.ToLong(stored.Value) == 99, $"seed {seed}: the synchronous write of 99 was acknowledged, but the store holds {Value.ToLong(stored.Value)} at {stored.Clock}");
        var read = Run(second, life2, "r", Args.Empty, new CausalInvocation { Token = wrote.Token, Placement = [0] });
        Assert.True(Value.ToLong(read.Outputs[0]) == 99, $"seed {seed}: the writer's own session read {Value.ToLong(read.Outputs[0])} after writing 99");
    }

    /// <summary>
    /// The deterministic scheduler, except that the store's mailbox runs its work at once, as a free store thread
    /// would on real threads (still one item at a time): the interleaving a thread pool allows between two
    /// calls a cache server makes in one step.
    /// </summary>
    private sealed class EagerStoreScheduler(DeterministicScheduler inner) : IScheduler
    {
        private readonly Queue<Action> _store = new();
        private bool _running;
        public TimeProvider Time => inner.Time;
        public Exception? Fault => inner.Fault;
        public Mailbox CreateMailbox(string name) => inner.CreateMailbox(name);
        public void After(TimeSpan delay, Action action) => inner.After(delay, action);

        public void Post(Mailbox mailbox, Action work)
        {
            if (mailbox.Name != "causal-store") { inner.Post(mailbox, work); return; }
            _store.Enqueue(work);
            if (_running) return;
            _running = true;
            try { while (_store.TryDequeue(out var next)) next(); }
            finally { _running = false; }
        }
    }

    /// <summary>
    /// Synchronous durability with a read-write transaction: if the tail handed the store the transaction's writes
    /// one call at a time, a batch holding only the first would count the head's clock entry durable and release
    /// the result before the other write's batch committed. The deterministic mode cannot interleave there, real
    /// threads can (this scheduler does).
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_synchronous_transaction_is_answered_only_once_all_its_writes_are_committed(int seed)
    {
        var memory = new MemoryStateStore();
        var inner = new DeterministicScheduler(seed);
        var options = new CausalOptions
        {
            Servers = 2, Durability = CausalDurability.Synchronous, StoreLatency = TimeSpan.FromMicroseconds(500),
            LinkLatency = TimeSpan.FromMicroseconds(10), CheckInvariants = true, Seed = seed,
        };
        var cluster = new CausalCluster(options, new EagerStoreScheduler(inner), store: StoreRuns.Open(memory));
        cluster.Register(new WorkflowBuilder("pair").WithConsistency(Consistency.TransactionalCausal)
            .Function("x", f => f.Updates(T, a => "x").Body(ctx => { ctx.WriteLong(T, "x", 7); return null; }))
            .Function("y", f => f.Updates(T, a => "y").Body(ctx => { ctx.WriteLong(T, "y", 7); return null; }))
            .Build());
        var notCommitted = new List<string>();
        CausalResult? result = null;
        cluster.Submit("pair", Args.Empty, r =>
        {
            result = r;
            foreach (var (key, mine) in r.Token!.Open().Local)
                if (cluster.Store!.Persisted(key) is not { } known || !mine.Clock.LessOrEqual(known.Clock)) notCommitted.Add(key.ToString());
        }, new CausalInvocation { Placement = [seed % 2, 1 - seed % 2] });
        inner.RunToQuiescence();
        Assert.True(inner.Fault is null, $"seed {seed}: {inner.Fault}");
        Assert.True(result is { Succeeded: true }, $"seed {seed}: {result?.Reason}");
        Assert.True(notCommitted.Count == 0, $"seed {seed}: the synchronous result arrived before {string.Join(", ", notCommitted)} was committed");
    }

    /// <summary>
    /// A crash in the middle of a run (the scheduler simply stops; the memory store keeps what was committed).
    /// A session writes d on server 0, then v on server 1 (v depends on d). v becomes visible at its tail —
    /// integrating d there from the I-cache — while d is visible at its own tail two hops later. Persisting v
    /// first would let a crash in between leave v in the store without d, and the next life's miss on v could
    /// never load a causal cut. So v waits for d (parked): wherever the run stops once v is in the store, d is
    /// too, and the next life reads both.
    /// </summary>
    [Fact]
    public void After_a_crash_the_store_is_a_causal_cut_the_next_life_can_load()
    {
        bool Has(MemoryStateStore memory, string key) => memory.ReadCommittedAsync(new StateKey(T, key)).AsTask().GetAwaiter().GetResult() is not null;
        long parked = 0;
        // Ring jitter lets v's laps overtake the end of d's second lap on some seeds.
        for (int seed = 1; seed <= 60; seed++)
        {
            var memory = new MemoryStateStore();
            var first = new DeterministicScheduler(seed);
            var life1 = new CausalCluster(new CausalOptions
            {
                Servers = 3, Durability = CausalDurability.WriteBehind, LinkLatency = TimeSpan.FromMicroseconds(20), RingJitter = TimeSpan.FromMicroseconds(400), Seed = seed,
            }, first, store: StoreRuns.Open(memory));
            life1.Register(new WorkflowBuilder("dv").WithConsistency(Consistency.Causal)
                .Function("d", f => f.Updates(T, a => "d").Body(ctx => { ctx.WriteLong(T, "d", 1); return null; }))
                .Function("v", f => f.After("d").Updates(T, a => "v").Body(ctx => { ctx.WriteLong(T, "v", 2); return null; }))
                .Build());
            life1.Submit("dv", Args.Empty, _ => { }, new CausalInvocation { Placement = [0, 1] });
            first.RunUntil(() => Has(memory, "v"), 1_000_000);
            Assert.True(Has(memory, "v"), $"seed {seed}: v was never persisted");
            Assert.True(Has(memory, "d"), $"seed {seed}: the store holds v without d, which it depends on");
            parked += life1.Store!.Parked;

            // The crash: life 1 stops here. The next life loads v with its deps.
            var second = new DeterministicScheduler(seed + 1000);
            var life2 = new CausalCluster(new CausalOptions { Servers = 3, Durability = CausalDurability.WriteBehind, CheckInvariants = true, Seed = seed }, second, store: StoreRuns.Open(memory));
            life2.Register(new WorkflowBuilder("rv").WithConsistency(Consistency.Causal)
                .Function("r", f => f.Reads(T, a => "v").Reads(T, a => "d").Body(ctx => Value.FromLong(10 * ctx.ReadLong(T, "v") + ctx.ReadLong(T, "d"))))
                .Build());
            CausalResult? read = null;
            life2.Submit("rv", Args.Empty, r => read = r, new CausalInvocation { Placement = [2] });
            second.RunUntil(() => read is not null || second.Fault is not null, 200_000);
            Assert.True(second.Fault is null && read is { Succeeded: true }, $"seed {seed}: the next life could not load v: {second.Fault?.Message ?? read?.Reason ?? "no result"}");
            Assert.Equal(21, Value.ToLong(read!.Outputs[0]));
        }
        Assert.True(parked > 0, "v never reached the store before d on any seed: the test never exercised the crash window");
    }

    /// <summary>The clock a restarted cluster starts from is checked like every stored version: corrupt bytes or another cluster size are named.</summary>
    [Theory]
    [InlineData(new byte[] { 9, 1, 2 }, "format 9")]
    [InlineData(new byte[] { 1, 3, 0, 0, 0, 0, 0 }, "3 entries")]
    public async Task A_corrupt_start_clock_in_the_store_is_a_clear_error(byte[] bytes, string named)
    {
        var memory = new MemoryStateStore();
        await memory.WriteVersionsAsync(1, [new(Leasehold.Runtime.Causal.Persistence.CausalStore.ClockKey, bytes)]);
        await memory.CommitAsync(1);
        var e = Assert.Throws<StoreUnavailableException>(() =>
            new CausalCluster(new CausalOptions { Servers = 2, Durability = CausalDurability.WriteBehind }, new DeterministicScheduler(1), store: StoreRuns.Open(memory)));
        Assert.Contains("leasehold.causal/clock", e.Message);
        Assert.Contains(named, e.Message);
    }
}
