using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Engine;

/// <summary>The same key string in two tables names two independent objects: separate values, separate declarations.</summary>
public class TableNamespaceTests
{
    private static readonly KeyValuePair<StateKey, byte[]>[] Initial =
    [
        new(new StateKey("t1", "x"), Value.FromLong(5)),
        new(new StateKey("t2", "x"), Value.FromLong(100)),
    ];

    private static WorkflowDefinition Inc() => new WorkflowBuilder("inc1")
        .Function("inc", f => f.Updates("t1", a => "x").Body(ctx => ctx.WriteLong("t1", "x", ctx.ReadLong("t1", "x") + 1)))
        .Build();

    /// <summary>Reads t1/x, updates t2/x = 2·t2/x + t1/x.</summary>
    private static WorkflowDefinition Mix() => new WorkflowBuilder("mix")
        .Function("mix", f => f.Reads("t1", a => "x").Updates("t2", a => "x").Body(ctx =>
        {
            long one = ctx.ReadLong("t1", "x");
            ctx.WriteLong("t2", "x", ctx.ReadLong("t2", "x") * 2 + one);
            return Value.FromLong(one);
        }))
        .Build();

    /// <summary>Declares t1/x read-only and t2/x read-write, then writes t1/x.</summary>
    private static WorkflowDefinition Confused() => new WorkflowBuilder("confused")
        .Function("oops", f => f.Reads("t1", a => "x").Updates("t2", a => "x").Body(ctx => ctx.WriteLong("t1", "x", -1)))
        .Build();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void The_same_key_in_two_tables_is_two_objects(int workers)
    {
        for (int seed = 1; seed <= 8; seed++)
        {
            var options = new ClusterOptions { Workers = workers, MaxBatchSize = new[] { 1, 3, 1000 }[seed % 3], AffinityWeight = 0, LoadWeight = 1 };
            var sim = new SimulatedCluster(seed, options, Initial, Inc(), Mix(), Confused());
            sim.Submit("inc1", Args.Empty);
            int m1 = sim.Submit("mix", Args.Empty);
            int bad = sim.Submit("confused", Args.Empty);
            sim.Submit("inc1", Args.Empty);
            int m2 = sim.Submit("mix", Args.Empty);
            sim.RunToCompletion();

            // t1: 5 → 6 → 7; t2: 100 → 206 → 419.
            Assert.Equal(7, sim.CommittedLong("t1", "x"));
            Assert.Equal(419, sim.CommittedLong("t2", "x"));
            Assert.Equal(6, Value.ToLong(sim.Result(m1).Output("mix")));
            Assert.Equal(7, Value.ToLong(sim.Result(m2).Output("mix")));
            Assert.Equal(WorkflowStatus.Failed, sim.Result(bad).Status);
            Assert.Contains("t1/x", sim.Result(bad).Reason);
            Assert.Contains("read-only", sim.Result(bad).Reason);
        }
    }
}
