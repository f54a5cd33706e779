using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;
using Leasehold.Tests.Support;
using Leasehold.Workloads;
using Leasehold.Workloads.Cycle;

namespace Leasehold.Tests.Workloads;

/// <summary>
/// FoundationDB's Cycle on the engine (the ring stays one cycle of N in every committed read and at the
/// end; nocc must break it), the swap's reconnaissance (guesses from the known ring, stale guesses abort
/// and trigger a read), and the ring check itself on hand-built broken rings.
/// </summary>
public class CycleWorkloadTests
{
    private const int Requests = 300;

    [Theory]
    [InlineData(1, 16, false, 10)]
    [InlineData(4, 16, false, 10)]
    [InlineData(4, 16, true, 10)]
    [InlineData(4, 4, true, 20)]    // every two swaps of a 4-ring conflict: about one per batch commits
    public async Task Under_lease_the_ring_stays_one_cycle_in_every_read_and_at_the_end(int workers, int keys, bool spread, int requestsPerCommittedSwap)
    {
        long crossWorker = 0;
        for (int seed = 1; seed <= 10; seed++)
        {
            var workload = new CycleWorkload(keys);
            var sim = ClosedLoopWorkloadRun.Run(workload, seed, ClosedLoopWorkloadRun.Options(ProtocolKind.Lease, workers, spread), Requests, clients: 12);
            Assert.All(sim.Submitted, s => Assert.True(s.Result!.Status is WorkflowStatus.Committed or WorkflowStatus.Aborted, $"seed {seed}: {s.Workflow} {s.Args}: {s.Result}"));
            Assert.All(sim.Submitted.Where(s => s.Result!.Status == WorkflowStatus.Aborted),
                s => Assert.True(s.Result!.Reason?.Contains(CycleWorkload.StaleGuess) == true, $"seed {seed}: {s.Args}: {s.Result}"));
            var invariant = await workload.CheckAsync(sim.Store);
            Assert.True(invariant.Ok, $"seed {seed}: {invariant.Detail}");
            Assert.True(workload.ReadsChecked > 0, $"seed {seed}: no read was checked: {invariant.Detail}");
            // Stale guesses are normal, but they must not starve the swaps.
            Assert.True(workload.CommittedSwaps >= Requests / requestsPerCommittedSwap, $"seed {seed}: only {workload.CommittedSwaps} of {Requests} requests were committed swaps: {invariant.Detail}");
            crossWorker += ClosedLoopWorkloadRun.CrossWorker(sim);
        }
        Assert.True(workers == 1 || crossWorker > 0, "no access crossed workers in any run on 4 workers");
    }

    [Fact]
    public async Task Nocc_under_contention_breaks_the_ring_on_seed_1()
    {
        const int seed = 1;
        var workload = new CycleWorkload();
        var sim = ClosedLoopWorkloadRun.Run(workload, seed, ClosedLoopWorkloadRun.Options(ProtocolKind.NoCC, 4), Requests, clients: 64);
        var invariant = await workload.CheckAsync(sim.Store);
        Assert.False(invariant.Ok, $"seed {seed}: nocc kept the ring, so the negative control shows nothing: {invariant.Detail}");
        Assert.True(workload.BadReads > 0, $"seed {seed}: no read saw the broken ring: {invariant.Detail}");
    }

    [Fact]
    public void A_swap_with_a_right_guess_rewires_and_a_stale_guess_aborts()
    {
        var workload = new CycleWorkload(keys: 6);
        var sim = new SimulatedCluster(3, ClosedLoopWorkloadRun.Options(ProtocolKind.Lease, 2), workload.InitialState(), [.. workload.Workflows]);
        var guess = Args.Create().Set("r", 1).Set("r2", 2).Set("r3", 3).Build();
        int first = sim.Submit(CycleWorkload.Swap, guess);
        sim.RunToCompletion();
        int second = sim.Submit(CycleWorkload.Swap, guess);
        sim.RunToCompletion();

        Assert.True(sim.Result(first).IsCommitted, sim.Result(first).ToString());
        Assert.Equal(new long[] { 2, 3, 4 }, Longs.Decode(sim.Result(first).Output(CycleWorkload.Check)));
        // 1 → 2 → 3 → 4 became 1 → 3 → 2 → 4.
        Assert.Equal(new long[] { 1, 3, 4, 2, 5, 0 }, Enumerable.Range(0, 6).Select(i => sim.CommittedLong(CycleWorkload.Table, $"c{i}")));
        Assert.Equal(WorkflowStatus.Aborted, sim.Result(second).Status);
        Assert.Contains(CycleWorkload.StaleGuess, sim.Result(second).Reason);
    }

    [Fact]
    public void Next_guesses_from_the_known_ring_and_learns_from_committed_swaps()
    {
        var workload = new CycleWorkload(keys: 8, readShare: 0);
        var random = new Random(5);
        var (wf, args) = workload.Next(random);
        Assert.Equal(CycleWorkload.Swap, wf);
        long r = args.GetLong("r");
        Assert.Equal((r + 1) % 8, args.GetLong("r2"));
        Assert.Equal((r + 2) % 8, args.GetLong("r3"));

        // Committed at ts 10: r → r3, r3 → r2, r2 → r4. Now r's successor is r3, and r3's is r2.
        workload.Observe(wf, args, SwapResult(workload, WorkflowStatus.Committed, 10, [(r + 1) % 8, (r + 2) % 8, (r + 3) % 8]));
        // A read from before the swap (ts 5) must not undo what the swap taught.
        workload.Observe(CycleWorkload.FullRead, Args.Empty, ReadResult(workload, 5, [1, 2, 3, 4, 5, 6, 7, 0]));
        Args? again = null;
        for (int i = 0; i < 200 && again is null; i++)
        {
            var (w, a) = workload.Next(random);
            if (w == CycleWorkload.Swap && a.GetLong("r") == r) again = a;
        }
        Assert.NotNull(again);
        Assert.Equal((r + 2) % 8, again.GetLong("r2"));
        Assert.Equal((r + 1) % 8, again.GetLong("r3"));
    }

    [Fact]
    public void After_a_stale_guess_the_next_request_is_a_read()
    {
        var workload = new CycleWorkload(keys: 8, readShare: 0);
        var random = new Random(9);
        var (wf, args) = workload.Next(random);
        Assert.Equal(CycleWorkload.Swap, wf);
        workload.Observe(wf, args, new WorkflowResult(WorkflowStatus.Aborted, 3, $"check: {CycleWorkload.StaleGuess}: …", new byte[]?[4], null));
        Assert.Equal(CycleWorkload.FullRead, workload.Next(random).Workflow);
        Assert.Equal(CycleWorkload.Swap, workload.Next(random).Workflow);
        Assert.Equal(1, workload.AbortedSwaps);
    }

    [Fact]
    public void Next_is_seeded()
    {
        var a = new CycleWorkload();
        var b = new CycleWorkload();
        var ra = new Random(11);
        var rb = new Random(11);
        for (int i = 0; i < 1000; i++)
        {
            var (wa, aa) = a.Next(ra);
            var (wb, ab) = b.Next(rb);
            Assert.Equal(wa, wb);
            Assert.Equal(aa.ToString(), ab.ToString());
        }
    }

    [Fact]
    public void Fewer_than_4_keys_are_refused() => Assert.Throws<ArgumentOutOfRangeException>(() => new CycleWorkload(keys: 3));

    [Theory]
    [InlineData(new long[] { 1, 2, 3, 0 })]
    [InlineData(new long[] { 3, 0, 1, 2 })]
    [InlineData(new long[] { 2, 3, 4, 5, 1, 0 })]
    public void A_single_cycle_through_0_is_a_ring(long[] next) => Assert.Null(CycleWorkload.RingProblem(next, next.Length));

    [Theory]
    [InlineData(new long[] { 1, 0, 3, 2 }, "length 2")]             // two cycles
    [InlineData(new long[] { 1, 2, 1, 0 }, "entered twice")]        // 0 → 1 → 2 → 1: a ρ, 3 never reached
    [InlineData(new long[] { 0, 2, 3, 1 }, "length 1")]             // 0 points at itself
    [InlineData(new long[] { 1, 2, 7, 0 }, "not a key")]
    [InlineData(new long[] { 1, 2, -1, 0 }, "not a key")]           // a missing key reads as -1
    [InlineData(new long[] { 1, 2, 0 }, "malformed")]
    public void A_broken_ring_is_named(long[] next, string named) =>
        Assert.Contains(named, CycleWorkload.RingProblem(next, 4));

    [Fact]
    public async Task A_final_ring_split_into_two_cycles_is_broken()
    {
        var workload = new CycleWorkload(keys: 16);
        // c0 → … → c7 → c0 and c8 → … → c15 → c8.
        var store = Store(workload, Enumerable.Range(0, 16).Select(i => (long)(i < 8 ? (i + 1) % 8 : 8 + (i - 7) % 8)).ToArray());
        var invariant = await workload.CheckAsync(store);
        Assert.False(invariant.Ok, invariant.Detail);
        Assert.Contains("length 8, not 16", invariant.Detail);
    }

    [Fact]
    public async Task A_final_ring_missing_a_key_is_broken()
    {
        var workload = new CycleWorkload(keys: 4);
        var store = new MemoryStateStore();
        store.Load(workload.InitialState().Where(kv => kv.Key.Key != "c3"));
        var invariant = await workload.CheckAsync(store);
        Assert.False(invariant.Ok, invariant.Detail);
        Assert.Contains("3 rows", invariant.Detail);
    }

    [Fact]
    public async Task A_committed_read_of_two_cycles_is_counted_and_breaks_the_invariant()
    {
        var workload = new CycleWorkload(keys: 4);
        workload.Observe(CycleWorkload.FullRead, Args.Empty, ReadResult(workload, 7, [1, 2, 3, 0]));
        workload.Observe(CycleWorkload.FullRead, Args.Empty, ReadResult(workload, 8, [1, 0, 3, 2]));
        Assert.Equal(2, workload.ReadsChecked);
        Assert.Equal(1, workload.BadReads);
        var invariant = await workload.CheckAsync(Store(workload, [1, 2, 3, 0]));
        Assert.False(invariant.Ok, invariant.Detail);
        Assert.Contains("read@8", invariant.Detail);
    }

    private static MemoryStateStore Store(CycleWorkload workload, long[] next)
    {
        var store = new MemoryStateStore();
        store.Load(next.Select((v, i) => new KeyValuePair<StateKey, byte[]>(new(CycleWorkload.Table, workload.KeyOf(i)), Value.FromLong(v))));
        return store;
    }

    private static WorkflowResult ReadResult(CycleWorkload workload, long ts, long[] ring) =>
        Result(workload, CycleWorkload.FullRead, CycleWorkload.Ring, WorkflowStatus.Committed, ts, ring);

    private static WorkflowResult SwapResult(CycleWorkload workload, WorkflowStatus status, long ts, long[] seen) =>
        Result(workload, CycleWorkload.Swap, CycleWorkload.Check, status, ts, seen);

    private static WorkflowResult Result(CycleWorkload workload, string workflow, string function, WorkflowStatus status, long ts, long[] output)
    {
        var definition = workload.Workflows.Single(w => w.Name == workflow);
        var outputs = new byte[]?[definition.Functions.Count];
        outputs[definition.IndexOf(function)] = Longs.Encode(output);
        return new WorkflowResult(status, ts, null, outputs, definition);
    }
}
