using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Transport;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Transport;

/// <summary>
/// What a request carries across the driver–worker boundary (its parameters) and what a function sends back
/// (its output, its failure reason) must fit what the wire accepts. Over the serialising transport, as over
/// a network, a message outside the limits cannot be carried: the request must be refused or its workflow
/// failed with a reason naming the limit, on both transports alike, never the whole cluster faulted.
/// </summary>
public class WireBoundaryTests
{
    private const int MiB = 1 << 20;

    private static WorkflowDefinition Echo() => new WorkflowBuilder("echo")
        .Function("echo", f => f.Updates("t", _ => "k").Body(ctx => ctx.Args.GetBytes("blob")))
        .Build();

    private static WorkflowDefinition Emit() => new WorkflowBuilder("emit")
        .Function("emit", f => f.Updates("t", _ => "k").Body(ctx => new byte[(int)ctx.Args.GetLong("size")]))
        .Build();

    private static WorkflowDefinition Throw() => new WorkflowBuilder("throw")
        .Function("throw", f => f.Updates("t", _ => "k").Body((Func<FunctionContext, byte[]?>)(ctx => throw new InvalidOperationException(new string('x', (int)ctx.Args.GetLong("size"))))))
        .Build();

    private static ClusterOptions Options(TransportKind transport) => new() { Workers = 2, MaxBatchSize = 1, Transport = transport };

    [Theory]
    [InlineData(TransportKind.Inproc)]
    [InlineData(TransportKind.InprocSerialising)]
    public void A_bytes_parameter_at_the_maximum_value_size_is_carried_whole(TransportKind transport)
    {
        var sim = new SimulatedCluster(1, Options(transport), [], Echo());
        var blob = new byte[MiB];
        blob[^1] = 9;
        int echo = sim.Submit("echo", Args.Create().Set("blob", blob).Build());
        sim.RunToCompletion();
        Assert.True(sim.Result(echo).IsCommitted, sim.Result(echo).ToString());
        Assert.Equal(blob, sim.Result(echo).Outputs[0]);
    }

    [Theory]
    [InlineData(TransportKind.Inproc)]
    [InlineData(TransportKind.InprocSerialising)]
    public void A_bytes_parameter_over_the_maximum_value_size_is_refused_naming_the_limit(TransportKind transport)
    {
        var sim = new SimulatedCluster(1, Options(transport), [], Echo());
        int over = sim.Submit("echo", Args.Create().Set("blob", new byte[MiB + 1]).Build());
        int after = sim.Submit("echo", Args.Create().Set("blob", new byte[] { 1 }).Build());
        sim.RunToCompletion();
        Assert.False(sim.Result(over).IsCommitted, sim.Result(over).ToString());
        Assert.Contains("MaxValueBytes", sim.Result(over).Reason);
        Assert.True(sim.Result(after).IsCommitted, sim.Result(after).ToString());
    }

    [Theory]
    [InlineData(TransportKind.Inproc)]
    [InlineData(TransportKind.InprocSerialising)]
    public void An_output_over_the_maximum_value_size_fails_its_workflow_naming_the_limit(TransportKind transport)
    {
        var sim = new SimulatedCluster(1, Options(transport), [], Emit());
        int at = sim.Submit("emit", Args.Create().Set("size", MiB).Build());
        int over = sim.Submit("emit", Args.Create().Set("size", MiB + 1).Build());
        sim.RunToCompletion();
        Assert.True(sim.Result(at).IsCommitted, sim.Result(at).ToString());
        Assert.Equal(WorkflowStatus.Failed, sim.Result(over).Status);
        Assert.Contains("MaxValueBytes", sim.Result(over).Reason);
    }

    [Theory]
    [InlineData(TransportKind.Inproc)]
    [InlineData(TransportKind.InprocSerialising)]
    public void A_failure_with_a_very_long_message_still_reaches_its_caller(TransportKind transport)
    {
        var sim = new SimulatedCluster(1, Options(transport), [], Throw());
        int failed = sim.Submit("throw", Args.Create().Set("size", 200_000).Build());
        sim.RunToCompletion();
        Assert.Equal(WorkflowStatus.Failed, sim.Result(failed).Status);
        Assert.StartsWith("function 'throw' threw InvalidOperationException: xxxx", sim.Result(failed).Reason);
        Assert.EndsWith("characters, clipped)", sim.Result(failed).Reason);
    }

    [Fact]
    public void A_batch_whose_parameters_together_exceed_the_frame_limit_still_runs_every_workflow()
    {
        var options = new ClusterOptions { Workers = 1, MaxBatchSize = 80, Transport = TransportKind.InprocSerialising };
        var sim = new SimulatedCluster(1, options, [], Echo());
        var runs = Enumerable.Range(0, 70).Select(_ => sim.Submit("echo", Args.Create().Set("blob", new byte[MiB]).Build())).ToList();
        sim.RunToCompletion();
        Assert.All(runs, r => Assert.True(sim.Result(r).IsCommitted, sim.Result(r).ToString()));
    }

    [Theory]
    [InlineData(TransportKind.Inproc)]
    [InlineData(TransportKind.InprocSerialising)]
    public void A_request_whose_parameters_together_cannot_fit_in_a_plan_is_refused_naming_the_bound(TransportKind transport)
    {
        var sim = new SimulatedCluster(1, Options(transport), [], Echo());
        var args = Args.Create().Set("blob", new byte[] { 1 });
        for (int i = 0; i < 70; i++) args.Set($"p{i}", new byte[MiB]);
        int over = sim.Submit("echo", args.Build());
        sim.RunToCompletion();
        Assert.Equal(WorkflowStatus.Rejected, sim.Result(over).Status);
        Assert.Contains("fit in a plan", sim.Result(over).Reason);
    }
}
