namespace Leasehold.Tests.Sdk;

/// <summary>
/// WorkflowBuilder.Build refuses every malformed DAG with a <see cref="WorkflowDefinitionException"/>
/// whose message names the culprit, and numbers functions in a deterministic topological order.
/// </summary>
public class WorkflowBuilderValidationTests
{
    private static void Noop(FunctionContext ctx) { }

    private static WorkflowDefinitionException Rejects(Func<WorkflowDefinition> build) =>
        Assert.Throws<WorkflowDefinitionException>(() => build());

    [Fact]
    public void A_cycle_is_rejected_naming_the_functions_on_it()
    {
        var e = Rejects(() => new WorkflowBuilder("loopy")
            .Function("start", f => f.Body(Noop))
            .Function("alpha", f => f.After("start", "gamma").Body(Noop))
            .Function("beta", f => f.After("alpha").Body(Noop))
            .Function("gamma", f => f.After("beta").Body(Noop))
            .Build());
        Assert.Contains("loopy", e.Message);
        Assert.Contains("cycle", e.Message);
        Assert.Contains("alpha", e.Message);
        Assert.Contains("beta", e.Message);
        Assert.Contains("gamma", e.Message);
        Assert.DoesNotContain("start", e.Message.Replace("loopy", ""));
    }

    [Fact]
    public void A_function_that_is_its_own_parent_is_a_cycle()
    {
        var e = Rejects(() => new WorkflowBuilder("selfish")
            .Function("me", f => f.After("me").Body(Noop))
            .Build());
        Assert.Contains("'me'", e.Message);
        Assert.Contains("cycle", e.Message);
    }

    [Fact]
    public void An_unknown_parent_is_rejected_naming_the_parent_and_the_child()
    {
        var e = Rejects(() => new WorkflowBuilder("orphaned")
            .Function("child", f => f.After("ghost").Body(Noop))
            .Build());
        Assert.Contains("'ghost'", e.Message);
        Assert.Contains("'child'", e.Message);
    }

    [Fact]
    public void A_duplicate_function_name_is_rejected_naming_it()
    {
        var e = Rejects(() => new WorkflowBuilder("twins")
            .Function("first", f => f.Body(Noop))
            .Function("dup", f => f.Body(Noop))
            .Function("dup", f => f.After("first").Body(Noop))
            .Build());
        Assert.Contains("duplicate", e.Message);
        Assert.Contains("'dup'", e.Message);
    }

    [Fact]
    public void A_missing_key_selector_is_rejected_naming_the_function_and_the_table()
    {
        var e = Rejects(() => new WorkflowBuilder("keyless")
            .Function("ok", f => f.Reads("t1", a => a.GetString("k")).Body(Noop))
            .Function("broken", f => f.Updates("orders", null!).Body(Noop))
            .Build());
        Assert.Contains("'broken'", e.Message);
        Assert.Contains("'orders'", e.Message);
        Assert.Contains("key selector", e.Message);
    }

    [Fact]
    public void A_missing_body_is_rejected_naming_the_function()
    {
        var e = Rejects(() => new WorkflowBuilder("bodiless")
            .Function("fine", f => f.Body(Noop))
            .Function("hollow", f => f.After("fine").Reads("t", a => "k"))
            .Build());
        Assert.Contains("'hollow'", e.Message);
        Assert.Contains("no body", e.Message);
    }

    [Fact]
    public void An_empty_workflow_is_rejected_naming_the_workflow()
    {
        var e = Rejects(() => new WorkflowBuilder("nothing-here").Build());
        Assert.Contains("'nothing-here'", e.Message);
        Assert.Contains("no functions", e.Message);
    }

    [Fact]
    public void A_nameless_workflow_is_rejected()
    {
        Assert.Throws<WorkflowDefinitionException>(() => new WorkflowBuilder(" "));
    }

    [Fact]
    public void Positions_follow_a_deterministic_topological_order()
    {
        // Declared out of order: 'report' first, though it depends on everything.
        WorkflowDefinition Build() => new WorkflowBuilder("diamond")
            .Function("report", f => f.After("left", "right").Body(Noop))
            .Function("right", f => f.After("load").Body(Noop))
            .Function("load", f => f.Body(Noop))
            .Function("left", f => f.After("load").Body(Noop))
            .Function("audit", f => f.Body(Noop))
            .Build();

        var first = Build();
        var names = first.Functions.Select(f => f.Name).ToArray();
        // Kahn's algorithm, the lowest declaration index among ready functions first: load(2) and audit(4)
        // are ready, load goes; right(1) and left(3) join audit(4): right, then left; that readies
        // report(0), which beats audit(4).
        Assert.Equal(["load", "right", "left", "report", "audit"], names);
        for (int i = 0; i < first.Functions.Count; i++)
        {
            Assert.Equal(i, first.Functions[i].Index);
            Assert.All(first.Functions[i].Parents, p => Assert.True(p < i, $"{names[i]} has parent at {p} >= {i}"));
        }
        Assert.Equal([first.IndexOf("right"), first.IndexOf("left")], first.Functions[first.IndexOf("report")].Parents);
        Assert.Equal([first.IndexOf("right"), first.IndexOf("left")], first.Functions[first.IndexOf("load")].Children.Order());

        for (int run = 0; run < 5; run++)
            Assert.Equal(names, Build().Functions.Select(f => f.Name).ToArray());
    }
}
