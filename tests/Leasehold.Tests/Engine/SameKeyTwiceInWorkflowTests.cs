using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Engine;

/// <summary>
/// Two functions of one workflow on the same key are two operations at (ts, 0) and (ts, 1): both apply,
/// in position order, even without a parametric edge between them (§2: the prototype dropped one).
/// </summary>
public class SameKeyTwiceInWorkflowTests
{
    private const string T = "t";

    /// <summary>Two independent functions, both updating A with non-commuting updates: a·10+1, then a·10+2.</summary>
    private static WorkflowDefinition Twice() => new WorkflowBuilder("twice")
        .Function("one", f => f.Updates(T, a => "A").Body(ctx =>
        {
            long a = ctx.ReadLong(T, "A");
            ctx.WriteLong(T, "A", a * 10 + 1);
            return Value.FromLong(a);
        }))
        .Function("two", f => f.Updates(T, a => "A").Body(ctx =>
        {
            long a = ctx.ReadLong(T, "A");
            ctx.WriteLong(T, "A", a * 10 + 2);
            return Value.FromLong(a);
        }))
        .Build();

    /// <summary>Reads A and adds 1000, so it is visible where it falls between the others.</summary>
    private static WorkflowDefinition Bump() => new WorkflowBuilder("bump")
        .Function("add", f => f.Reads(T, a => "A").Updates(T, a => "A").Body(ctx =>
        {
            long a = ctx.ReadLong(T, "A");
            ctx.WriteLong(T, "A", a + 1000);
            return Value.FromLong(a);
        }))
        .Build();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Both_updates_apply_in_position_order(int workers)
    {
        for (int seed = 1; seed <= 12; seed++)
        {
            var options = new ClusterOptions
            {
                // One batch each, pairs, or all three together (submitted before running, so concurrent).
                Workers = workers, MaxBatchSize = new[] { 1, 2, 1000 }[seed % 3], AffinityWeight = 0, LoadWeight = 1,
                LinkLatency = TimeSpan.FromMicroseconds(seed % 3), RemoteOpLatency = TimeSpan.FromMicroseconds(seed % 4),
            };
            KeyValuePair<StateKey, byte[]>[] initial = [new(new StateKey(T, "A"), Value.FromLong(5))];
            var sim = new SimulatedCluster(seed, options, initial, Twice(), Bump());
            int r1 = sim.Submit("twice", Args.Empty);
            int r2 = sim.Submit("bump", Args.Empty);
            int r3 = sim.Submit("twice", Args.Empty);
            sim.RunToCompletion();

            // Serially: 5 → 51 → 512 → 1512 → 15121 → 151212.
            Assert.Equal(151212, sim.CommittedLong(T, "A"));
            Assert.All(new[] { r1, r2, r3 }, r => Assert.True(sim.Result(r).IsCommitted, $"seed {seed}: {sim.Result(r)}"));
            Assert.Equal(5, Value.ToLong(sim.Result(r1).Output("one")));
            Assert.Equal(51, Value.ToLong(sim.Result(r1).Output("two")));
            Assert.Equal(512, Value.ToLong(sim.Result(r2).Output("add")));
            Assert.Equal(1512, Value.ToLong(sim.Result(r3).Output("one")));
            Assert.Equal(15121, Value.ToLong(sim.Result(r3).Output("two")));
        }
    }

    [Fact]
    public void A_key_declared_twice_by_one_function_is_one_read_write_access()
    {
        var workflow = new WorkflowBuilder("double-declared")
            .Function("f", f => f.Reads(T, a => "A").Updates(T, a => "A").Reads(T, a => "A").Body(ctx =>
                ctx.WriteLong(T, "A", ctx.ReadLong(T, "A") + 1)))
            .Build();
        var sim = new SimulatedCluster(3, new ClusterOptions { Workers = 2 }, [new(new StateKey(T, "A"), Value.FromLong(41))], workflow);
        int r = sim.Submit("double-declared", Args.Empty);
        sim.RunToCompletion();
        Assert.True(sim.Result(r).IsCommitted, sim.Result(r).ToString());
        Assert.Equal(42, sim.CommittedLong(T, "A"));
    }
}
