using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Sdk;

/// <summary>
/// A request's parameters are immutable: the driver keeps them (to re-admit or replay the request after a
/// rollback) while the fast transport hands the same object to the worker, so a bytes parameter that a
/// function or the caller could change in place would be a mutable object shared between nodes.
/// </summary>
public class ArgsImmutabilityTests
{
    [Fact]
    public void Changing_the_array_a_bytes_parameter_returns_leaves_the_parameter_unchanged()
    {
        var args = Args.Create().Set("blob", new byte[] { 1, 2, 3 }).Build();
        args.GetBytes("blob")[0] = 42;
        ((byte[])args.ValueAt(0))[1] = 42;
        Assert.Equal(new byte[] { 1, 2, 3 }, args.GetBytes("blob"));
    }

    [Fact]
    public void Changing_the_array_given_to_the_builder_after_building_leaves_the_parameter_unchanged()
    {
        var blob = new byte[] { 1, 2, 3 };
        var args = Args.Create().Set("blob", blob).Build();
        blob[0] = 42;
        Assert.Equal(new byte[] { 1, 2, 3 }, args.GetBytes("blob"));
    }

    /// <summary>On the fast transport the worker's parameters are the driver's object: a function changing them in place reached the caller's array.</summary>
    [Fact]
    public void A_function_that_changes_its_bytes_parameter_in_place_changes_nothing_outside_its_worker()
    {
        var workflow = new WorkflowBuilder("scribble")
            .Function("scribble", f => f.Updates("t", _ => "k").Body(ctx =>
            {
                var blob = ctx.Args.GetBytes("blob");
                blob[0] = 42;
                return blob;
            }))
            .Build();
        var blob = new byte[] { 1, 2, 3 };
        var args = Args.Create().Set("blob", blob).Build();
        var sim = new SimulatedCluster(1, new ClusterOptions { Workers = 2 }, [], workflow);
        int run = sim.Submit("scribble", args);
        sim.RunToCompletion();

        Assert.True(sim.Result(run).IsCommitted, sim.Result(run).ToString());
        Assert.Equal(new byte[] { 42, 2, 3 }, sim.Result(run).Outputs[0]);
        Assert.Equal(new byte[] { 1, 2, 3 }, args.GetBytes("blob"));
        Assert.Equal(new byte[] { 1, 2, 3 }, blob);
    }
}
