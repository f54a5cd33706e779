using System.Reflection;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Driver;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Engine;

/// <summary>
/// A workflow whose keys are leased by three different workers — the routed worker holds one, two are
/// reached through virtual vertices and the flag hand-shake — still computes the serial result.
/// </summary>
public class RemoteLeaseholderTests
{
    private const string T = "t";

    private static WorkflowDefinition Touch() => new WorkflowBuilder("touch")
        .Function("inc", f => f.Updates(T, a => a.GetString("k")).Body(ctx =>
            ctx.WriteLong(T, ctx.Args.GetString("k"), ctx.ReadLong(T, ctx.Args.GetString("k")) + 1)))
        .Build();

    /// <summary>first → second → third over keys p, q, r: each triples its key and adds its parent's output.</summary>
    private static WorkflowDefinition Relay() => new WorkflowBuilder("relay")
        .Function("first", f => f.Updates(T, a => a.GetString("p")).Body(ctx => Step(ctx, "p", null)))
        .Function("second", f => f.After("first").Updates(T, a => a.GetString("q")).Body(ctx => Step(ctx, "q", "first")))
        .Function("third", f => f.After("second").Updates(T, a => a.GetString("r")).Body(ctx => Step(ctx, "r", "second")))
        .Build();

    private static byte[] Step(FunctionContext ctx, string param, string? parent)
    {
        string key = ctx.Args.GetString(param);
        long next = ctx.ReadLong(T, key) * 3 + (parent is null ? 0 : Value.ToLong(ctx.Parent(parent)));
        ctx.WriteLong(T, key, next);
        return Value.FromLong(next);
    }

    private static Args Keys(string p, string q, string r) => Args.Create().Set("p", p).Set("q", q).Set("r", r).Build();

    /// <summary>The current leaseholder of a key, read from the driver's lease table (private wiring, reached by reflection).</summary>
    private static int HolderOf(SerializableCluster cluster, StateKey key)
    {
        const BindingFlags Private = BindingFlags.NonPublic | BindingFlags.Instance;
        var driver = cluster.Driver ?? throw new InvalidOperationException("the cluster has not started");
        var leases = (LeaseTable)(typeof(ClusterDriver).GetField("_leases", Private)?.GetValue(driver)
            ?? throw new InvalidOperationException("ClusterDriver._leases not found: update this probe"));
        var keys = (KeyDirectory)(typeof(ClusterDriver).GetField("_keys", Private)?.GetValue(driver)
            ?? throw new InvalidOperationException("ClusterDriver._keys not found: update this probe"));
        return leases.HolderOf(keys.Intern(key));
    }

    [Fact]
    public void A_workflow_over_keys_leased_by_three_workers_computes_the_serial_result()
    {
        KeyValuePair<StateKey, byte[]>[] initial =
        [
            new(new StateKey(T, "A"), Value.FromLong(10)),
            new(new StateKey(T, "B"), Value.FromLong(20)),
            new(new StateKey(T, "C"), Value.FromLong(30)),
        ];
        for (int seed = 1; seed <= 10; seed++)
        {
            // Load alone decides routing and each request is its own batch, so the three warm-up requests
            // land on workers 0, 1, 2 and each takes its key's lease there.
            var options = new ClusterOptions
            {
                Workers = 3, MaxBatchSize = 1, AffinityWeight = 0, LoadWeight = 1,
                LinkLatency = TimeSpan.FromMicroseconds(seed % 5), RemoteOpLatency = TimeSpan.FromMicroseconds(7),
            };
            var sim = new SimulatedCluster(seed, options, initial, Touch(), Relay());
            foreach (var k in new[] { "A", "B", "C" }) sim.Submit("touch", Args.Create().Set("k", k).Build());
            sim.RunToCompletion();
            var holders = new[] { "A", "B", "C" }.Select(k => HolderOf(sim.Cluster, new StateKey(T, k))).ToArray();
            Assert.Equal(3, holders.Distinct().Count());
            Assert.Equal(0, sim.Cluster.Counters.RemoteAccesses);

            int relay = sim.Submit("relay", Keys("A", "B", "C"));
            int back = sim.Submit("relay", Keys("C", "A", "B"));
            sim.Submit("touch", Args.Create().Set("k", "B").Build());
            int again = sim.Submit("relay", Keys("B", "C", "A"));
            sim.RunToCompletion();

            Assert.True(sim.Cluster.Counters.RemoteAccesses >= 2, $"seed {seed}: {sim.Cluster.Counters.RemoteAccesses} remote accesses");
            Assert.True(sim.Cluster.RemoteOperations > 0);

            // The first relay, by hand: A 11·3 = 33; B 21·3 + 33 = 96; C 31·3 + 96 = 189.
            var first = sim.Result(relay);
            Assert.True(first.IsCommitted, $"seed {seed}: {first}");
            Assert.Equal([33L, 96L, 189L], first.Outputs.Select(o => Value.ToLong(o)).ToArray());

            var reference = new SerialReference(initial);
            foreach (var (wf, args, result) in sim.Submitted.OrderBy(s => s.Result!.Timestamp))
            {
                var expected = reference.Execute(sim.Cluster.Workflow(wf), args, result!.Timestamp, DateTimeOffset.UnixEpoch);
                Assert.Equal(expected.Status, result.Status);
                Assert.Equal(expected.Outputs.Select(o => Value.ToLong(o)), result.Outputs.Select(o => Value.ToLong(o)));
            }
            foreach (var k in new[] { "A", "B", "C" })
                Assert.Equal(Value.ToLong(reference.Get(new StateKey(T, k))), sim.CommittedLong(T, k));
            Assert.True(sim.Result(back).IsCommitted && sim.Result(again).IsCommitted);
        }
    }
}
