using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Sdk;

/// <summary>
/// WorkflowResult.Output on a result whose functions never ran says so (status and reason) instead of
/// an IndexOutOfRangeException, and TryGetOutput asks without throwing.
/// </summary>
public class WorkflowResultOutputTests
{
    private static readonly WorkflowDefinition Echo = new WorkflowBuilder("echo")
        .Function("say", f => f.Reads("t", a => a.GetString("k")).Body(ctx => Value.FromString("hi")))
        .Build();

    [Fact]
    public void A_result_that_never_ran_because_its_key_selector_threw_has_no_outputs_and_says_why()
    {
        var sim = new SimulatedCluster(1, new ClusterOptions { Workers = 1 }, [], Echo);
        int i = sim.Submit("echo", Args.Empty); // no parameter "k": the selector throws
        sim.RunToCompletion();
        var result = sim.Result(i);
        Assert.Equal(WorkflowStatus.Failed, result.Status);

        Assert.False(result.TryGetOutput("say", out var output));
        Assert.Null(output);
        var e = Assert.Throws<InvalidOperationException>(() => result.Output("say"));
        Assert.Contains("Failed", e.Message);
        Assert.Contains("'echo'", e.Message);
        Assert.Contains("'say'", e.Message);
        Assert.Contains(result.Reason!, e.Message);
    }

    [Fact]
    public void A_rejected_result_has_no_outputs_and_says_why()
    {
        var result = WorkflowResult.Rejected("admission queue full");
        Assert.False(result.TryGetOutput("say", out _));
        var e = Assert.Throws<InvalidOperationException>(() => result.Output("say"));
        Assert.Contains("Rejected", e.Message);
        Assert.Contains("admission queue full", e.Message);
    }

    [Fact]
    public void A_committed_result_gives_its_outputs_and_refuses_an_unknown_function_name()
    {
        var sim = new SimulatedCluster(1, new ClusterOptions { Workers = 1 }, [], Echo);
        int i = sim.Submit("echo", Args.Create().Set("k", "x").Build());
        sim.RunToCompletion();
        var result = sim.Result(i);
        Assert.True(result.IsCommitted, result.ToString());
        Assert.True(result.TryGetOutput("say", out var output));
        Assert.Equal("hi", Value.ToText(output));
        Assert.Equal("hi", Value.ToText(result.Output("say")));
        Assert.Throws<KeyNotFoundException>(() => result.TryGetOutput("nope", out _));
    }
}
