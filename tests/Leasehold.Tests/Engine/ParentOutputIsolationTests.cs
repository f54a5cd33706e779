using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Engine;

/// <summary>
/// ctx.Parent hands each child its own copy of the parent's output, as ctx.Read does for state: a
/// child that edits it in place changes neither what its siblings read nor what the caller gets, so
/// results do not depend on which sibling ran first.
/// </summary>
public class ParentOutputIsolationTests
{
    [Fact]
    public void A_child_that_edits_its_parents_output_in_place_changes_nothing_outside_itself()
    {
        var workflow = new WorkflowBuilder("fan")
            .Function("make", f => f.Body(ctx => new byte[] { 1, 2, 3 }))
            .Function("edit", f => f.After("make").Body(ctx =>
            {
                var mine = ctx.Parent("make")!;
                mine[0] = 99;
                return mine;
            }))
            .Function("look", f => f.After("make").Body(ctx => ctx.Parent("make")))
            .Build();
        for (int seed = 0; seed < 20; seed++)
        {
            var sim = new SimulatedCluster(seed, new ClusterOptions { Workers = 1, ExecutorsPerWorker = 2 }, [], workflow);
            int i = sim.Submit("fan", Args.Empty);
            sim.RunToCompletion();
            var result = sim.Result(i);
            Assert.True(result.IsCommitted, $"seed {seed}: {result}");
            Assert.True(new byte[] { 1, 2, 3 }.AsSpan().SequenceEqual(result.Output("make")), $"seed {seed}: the caller's copy of 'make' changed: {string.Join(",", result.Output("make")!)}");
            Assert.True(new byte[] { 1, 2, 3 }.AsSpan().SequenceEqual(result.Output("look")), $"seed {seed}: the sibling saw the edit: {string.Join(",", result.Output("look")!)}");
            Assert.Equal(99, result.Output("edit")![0]);
        }
    }
}
