using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Recovery;

/// <summary>
/// Region rotation fences one-sided memory across a rollback: every incarnation registers fresh regions under
/// (worker, incarnation), and a superseded incarnation's keys are retired. A fenced worker's late write through
/// its old key lands in retired memory the new incarnation never reads, so the results stay serial; and the
/// regions of an incarnation are freed one incarnation later, after which its keys lead nowhere, harmlessly.
/// </summary>
public class RegionRotationTests
{
    private const string T = "t";
    private static readonly string[] Keys = ["a", "b", "c", "d", "e", "f"];
    /// <summary>Key ids are interned from 0 as keys are first seen; a few spare slots cover every key here.</summary>
    private const int Slots = 16;
    private static readonly byte[] Garbage = Value.FromLong(-999_999);

    private static WorkflowDefinition Increment() => new WorkflowBuilder("inc")
        .Function("inc", f => f.Updates(T, a => a.GetString("k")).Body(ctx =>
        {
            string key = ctx.Args.GetString("k");
            long next = ctx.ReadLong(T, key) + 1;
            ctx.WriteLong(T, key, next);
            return Value.FromLong(next);
        }))
        .Build();

    /// <summary>Moves one unit from p to q (two keys, so routing spreads leases and accesses cross workers).</summary>
    private static WorkflowDefinition Move() => new WorkflowBuilder("move")
        .Function("move", f => f.Updates(T, a => a.GetString("p")).Updates(T, a => a.GetString("q")).Body(ctx =>
        {
            string p = ctx.Args.GetString("p"), q = ctx.Args.GetString("q");
            ctx.WriteLong(T, p, ctx.ReadLong(T, p) - 1);
            ctx.WriteLong(T, q, ctx.ReadLong(T, q) + 1);
        }))
        .Build();

    private static readonly ClusterOptions Options = new()
    {
        Workers = 3, MaxBatchSize = 4, AffinityWeight = 0.2, LoadWeight = 3,
        RemoteOpLatency = TimeSpan.FromMicroseconds(3), LinkLatency = TimeSpan.FromMicroseconds(2),
    };

    /// <summary>A store whose batch write-back fails the first <paramref name="failures"/> times, each failure a rollback.</summary>
    private static SimulatedCluster Cluster(int seed, int failures)
    {
        int failed = 0;
        return new SimulatedCluster(seed, 0.5, Options, Keys.Select(k => new KeyValuePair<StateKey, byte[]>(new(T, k), Value.FromLong(100))),
            memory => new FaultyStore(memory, op => op == "write" && failed < failures && ++failed > 0 ? new IOException("disk hiccup") : null),
            Increment(), Move());
    }

    private static void SubmitRound(SimulatedCluster sim, Random random, int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (random.Next(2) == 0) sim.Submit("inc", Args.Create().Set("k", Keys[random.Next(Keys.Length)]).Build());
            else
            {
                int p = random.Next(Keys.Length), q = (p + 1 + random.Next(Keys.Length - 1)) % Keys.Length;
                sim.Submit("move", Args.Create().Set("p", Keys[p]).Set("q", Keys[q]).Build());
            }
        }
        sim.RunToCompletion();
    }

    /// <summary>Every slot of every worker's region under one key, read one-sidedly (as another node would).</summary>
    private static SlotSnapshot[,] ReadAll(SimulatedCluster sim, int incarnation)
    {
        var memory = sim.Cluster.Memory;
        var probe = sim.Scheduler.CreateMailbox("probe");
        var seen = new SlotSnapshot[Options.Workers, Slots];
        for (int w = 0; w < Options.Workers; w++)
            for (int slot = 0; slot < Slots; slot++)
            {
                int worker = w, at = slot; // the lambda captures these, not the loop variables
                memory.Read(new RegionKey(worker, incarnation), at, probe, s => seen[worker, at] = s);
            }
        sim.Scheduler.RunToQuiescence();
        return seen;
    }

    /// <summary>A fenced worker's late writes: garbage and a flag into every slot, through its old incarnation's keys.</summary>
    private static int WriteThroughOldKeys(SimulatedCluster sim, int incarnation)
    {
        var probe = sim.Scheduler.CreateMailbox("fenced");
        int landed = 0;
        for (int w = 0; w < Options.Workers; w++)
            for (int slot = 0; slot < Slots; slot++)
                sim.Cluster.Memory.WriteValueThenFlag(new RegionKey(w, incarnation), slot, Garbage, w, probe, () => landed++);
        sim.Scheduler.RunToQuiescence();
        return landed;
    }

    /// <summary>Every request committed, and the store and every output match the serial order of timestamps.</summary>
    private static void AssertSerial(SimulatedCluster sim)
    {
        var reference = new SerialReference(Keys.Select(k => new KeyValuePair<StateKey, byte[]>(new(T, k), Value.FromLong(100))));
        foreach (var (wf, args, result) in sim.Submitted.OrderBy(s => s.Result!.Timestamp))
        {
            Assert.True(result!.IsCommitted, $"seed {sim.Seed}: {wf} {result}");
            var expected = reference.Execute(sim.Cluster.Workflow(wf), args, result.Timestamp, DateTimeOffset.UnixEpoch);
            Assert.Equal(expected.Outputs.Select(o => o is null ? (long?)null : Value.ToLong(o)), result.Outputs.Select(o => o is null ? (long?)null : Value.ToLong(o)));
        }
        foreach (var k in Keys)
            Assert.True(Value.ToLong(reference.Get(new StateKey(T, k))) == sim.CommittedLong(T, k), $"seed {sim.Seed}: key {k}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void A_write_through_the_old_incarnations_key_after_a_rollback_is_invisible_to_the_new_one(int seed)
    {
        var sim = Cluster(seed, failures: 1);
        var random = new Random(seed);
        SubmitRound(sim, random, 24);
        Assert.Equal(1, sim.Cluster.Counters.Rollbacks);
        SubmitRound(sim, random, 24); // the new incarnation caches the keys in its own regions
        for (int w = 0; w < Options.Workers; w++)
        {
            Assert.True(sim.Cluster.Memory.IsRetired(new RegionKey(w, 0)), $"seed {seed}: worker {w}'s first region is still in service");
            Assert.False(sim.Cluster.Memory.IsRetired(new RegionKey(w, 1)), $"seed {seed}: worker {w}'s live region is retired");
        }

        var before = ReadAll(sim, incarnation: 1);
        Assert.Contains(before.Cast<SlotSnapshot>(), s => s.Value is not null); // the live regions hold values: the check below can see a change
        long landedBefore = sim.Cluster.Memory.LandedInRetired;
        Assert.Equal(Options.Workers * Slots, WriteThroughOldKeys(sim, incarnation: 0));
        Assert.Equal(landedBefore + Options.Workers * Slots, sim.Cluster.Memory.LandedInRetired);
        var after = ReadAll(sim, incarnation: 1);
        for (int w = 0; w < Options.Workers; w++)
            for (int slot = 0; slot < Slots; slot++)
            {
                Assert.Equal(before[w, slot].Flag, after[w, slot].Flag);
                Assert.Equal(before[w, slot].Value, after[w, slot].Value);
            }
        // The writes did land, in the retired regions, where nobody reads.
        var retired = ReadAll(sim, incarnation: 0);
        Assert.All(retired.Cast<SlotSnapshot>(), s => Assert.Equal(Garbage, s.Value));

        SubmitRound(sim, random, 24);
        AssertSerial(sim);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void An_incarnations_regions_are_freed_one_incarnation_later_and_its_keys_then_lead_nowhere(int seed)
    {
        var sim = Cluster(seed, failures: 2);
        var random = new Random(seed);
        for (int round = 0; round < 10 && sim.Cluster.Counters.Rollbacks < 2; round++) SubmitRound(sim, random, 12);
        Assert.Equal(2, sim.Cluster.Counters.Rollbacks);
        SubmitRound(sim, random, 12);

        var memory = sim.Cluster.Memory;
        for (int w = 0; w < Options.Workers; w++)
        {
            Assert.False(memory.HoldsRegion(new RegionKey(w, 0)), $"seed {seed}: incarnation 0's region of worker {w} is still held");
            Assert.True(memory.HoldsRegion(new RegionKey(w, 1)), $"seed {seed}: incarnation 1's region of worker {w} was freed while its tail may run");
            Assert.True(memory.HoldsRegion(new RegionKey(w, 2)));
        }
        Assert.Equal(2 * Options.Workers, memory.RegionCount);

        // A fenced worker of incarnation 0 still writing: its operations complete, change nothing, fault nothing.
        var live = ReadAll(sim, incarnation: 2);
        Assert.Equal(Options.Workers * Slots, WriteThroughOldKeys(sim, incarnation: 0));
        Assert.Null(sim.Scheduler.Fault);
        Assert.All(ReadAll(sim, incarnation: 0).Cast<SlotSnapshot>(), s => Assert.Equal(new SlotSnapshot(RegionMemory.NoOwner, null), s));
        var after = ReadAll(sim, incarnation: 2);
        for (int w = 0; w < Options.Workers; w++)
            for (int slot = 0; slot < Slots; slot++)
                Assert.Equal(live[w, slot].Value, after[w, slot].Value);

        SubmitRound(sim, random, 12);
        AssertSerial(sim);
    }
}
