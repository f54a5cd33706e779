using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Transport;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Recovery;

/// <summary>
/// After a rollback the old incarnation's nodes may still run what they had queued and send it; addressed by
/// node id, their messages reach the new incarnation's nodes, which must refuse them. Were one taken, a grant
/// or an executed report of the old batch would land in the new incarnation's state.
/// </summary>
public class StaleIncarnationTests
{
    private static readonly WorkflowDefinition Increment = new WorkflowBuilder("inc")
        .Function("read", f => f.Reads("t", a => a.GetString("a")).Body(ctx => Value.FromLong(ctx.ReadLong("t", ctx.Args.GetString("a")))))
        .Function("add", f => f.After("read").Updates("t", a => a.GetString("b"))
            .Body(ctx => ctx.WriteLong("t", ctx.Args.GetString("b"), ctx.ReadLong("t", ctx.Args.GetString("b")) + 1)))
        .Build();

    [Theory]
    [InlineData(TransportKind.Inproc)]
    [InlineData(TransportKind.InprocSerialising)]
    public void Messages_of_a_rolled_back_incarnation_are_refused_and_every_request_applies_once(TransportKind transport)
    {
        long refused = 0;
        for (int seed = 1; seed <= 12; seed++)
        {
            int writes = 0;
            var options = new ClusterOptions
            {
                Workers = 4,
                Transport = transport,
                LinkLatency = TimeSpan.FromMicroseconds(30),
                RemoteOpLatency = TimeSpan.FromMicroseconds(10),
                MaxBatchSize = 4,
                AffinityWeight = 0.2,
                LoadWeight = 3,
            };
            var initial = Enumerable.Range(0, 6).Select(k => new KeyValuePair<StateKey, byte[]>(new StateKey("t", $"k{k}"), Value.FromLong(0)));
            // One worker's write-back fails once, mid-run: the driver rolls every node back and re-executes.
            var sim = new SimulatedCluster(seed, 0.3, options, initial,
                store => new FaultyStore(store, op => op == "write" && Interlocked.Increment(ref writes) == 3 ? new IOException("injected") : null), Increment);
            var random = new Random(seed);
            for (int i = 0; i < 40; i++)
                sim.Submit("inc", Args.Create().Set("a", $"k{random.Next(6)}").Set("b", $"k{random.Next(6)}").Build());
            sim.RunToCompletion();

            Assert.Null(sim.Scheduler.Fault);
            Assert.True(sim.Cluster.Counters.Rollbacks >= 1, $"seed {seed}: the injected failure caused no rollback");
            var committed = sim.Submitted.Where(s => s.Result!.Status == WorkflowStatus.Committed).ToList();
            Assert.Equal(40, committed.Count);
            for (int k = 0; k < 6; k++)
            {
                long applied = committed.Count(s => s.Args.GetString("b") == $"k{k}");
                Assert.True(applied == sim.CommittedLong("t", $"k{k}"), $"seed {seed}: k{k} holds {sim.CommittedLong("t", $"k{k}")}, {applied} increments committed");
            }
            refused += sim.Cluster.Transport.StaleRefused;
        }
        // The property above holds whether or not a stale message happened to be in flight; this says the runs tested the refusal.
        Assert.True(refused > 0, "no seed had a message of the old incarnation arrive after the rollback");
    }
}
