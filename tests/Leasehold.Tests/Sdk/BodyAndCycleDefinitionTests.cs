namespace Leasehold.Tests.Sdk;

/// <summary>
/// Build refuses what the engine cannot run faithfully: an async body (it would return at its first
/// await and the workflow would commit without the rest of its writes), and a cycle, named as the
/// loop itself so the user sees which edge to remove.
/// </summary>
public class BodyAndCycleDefinitionTests
{
    private static void Noop(FunctionContext ctx) { }

    private static async void AsyncMethodBody(FunctionContext ctx)
    {
        await Task.Yield();
        ctx.WriteLong("t", "k", 1);
    }

    [Fact]
    public void An_async_lambda_body_is_refused_naming_the_workflow_and_function()
    {
        var e = Assert.Throws<WorkflowDefinitionException>(() => new WorkflowBuilder("pay")
            .Function("debit", f => f.Updates("t", a => "k").Body(async ctx =>
            {
                await Task.Yield();
                ctx.WriteLong("t", "k", 1);
            }))
            .Build());
        Assert.Contains("'pay'", e.Message);
        Assert.Contains("'debit'", e.Message);
        Assert.Contains("async", e.Message);
        Assert.Contains("synchronous", e.Message);
    }

    [Fact]
    public void An_async_void_method_group_body_is_refused()
    {
        var e = Assert.Throws<WorkflowDefinitionException>(() => new WorkflowBuilder("pay")
            .Function("debit", f => f.Updates("t", a => "k").Body(AsyncMethodBody))
            .Build());
        Assert.Contains("'debit'", e.Message);
    }

    [Fact]
    public void Synchronous_bodies_of_both_shapes_are_accepted()
    {
        var workflow = new WorkflowBuilder("ok")
            .Function("a", f => f.Body(Noop))
            .Function("b", f => f.After("a").Body(ctx => ctx.Parent("a")))
            .Build();
        Assert.Equal(2, workflow.Functions.Count);
    }

    [Fact]
    public void A_cycle_is_named_as_the_loop_without_the_functions_downstream_of_it()
    {
        var e = Assert.Throws<WorkflowDefinitionException>(() => new WorkflowBuilder("loopy")
            .Function("start", f => f.Body(Noop))
            .Function("a", f => f.After("start", "b").Body(Noop))
            .Function("b", f => f.After("a").Body(Noop))
            .Function("downstream", f => f.After("b").Body(Noop))
            .Function("further", f => f.After("downstream").Body(Noop))
            .Build());
        Assert.Equal("workflow 'loopy' has a cycle: a → b → a", e.Message);
    }

    [Fact]
    public void A_longer_cycle_is_named_in_edge_order()
    {
        var e = Assert.Throws<WorkflowDefinitionException>(() => new WorkflowBuilder("ring")
            .Function("tail", f => f.After("y").Body(Noop))
            .Function("x", f => f.After("z").Body(Noop))
            .Function("y", f => f.After("x").Body(Noop))
            .Function("z", f => f.After("y").Body(Noop))
            .Build());
        Assert.Equal("workflow 'ring' has a cycle: x → y → z → x", e.Message);
    }
}
