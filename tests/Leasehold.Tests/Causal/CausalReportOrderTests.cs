using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Messages;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Tests.Causal;

/// <summary>
/// The transport orders each link, not links against each other: a function's report to the client can arrive
/// after a report its children's servers sent later (on TCP, two connections). The client's result must not
/// depend on which link was faster.
/// </summary>
public class CausalReportOrderTests
{
    private const string T = "t";

    /// <summary>Every jittered message waits the whole jitter: the link is simply slow.</summary>
    private sealed class Slowest : Random
    {
        public override double NextDouble() => 1.0;
    }

    private static WorkflowDefinition Chain() => new WorkflowBuilder("chain").WithConsistency(Consistency.TransactionalCausal)
        .Function("read", f => f.Reads(T, a => "k0").Body(ctx => Value.FromLong(ctx.ReadLong(T, "k0") + 41)))
        .Function("write", f => f.After("read").Updates(T, a => "k1").Body(ctx => ctx.WriteLong(T, "k1", 1)))
        .Build();

    [Fact]
    public void A_committed_transaction_waits_for_every_functions_report_that_a_slower_link_delays()
    {
        var scheduler = new DeterministicScheduler(1);
        var cluster = new CausalCluster(new CausalOptions { Servers = 2, LinkLatency = TimeSpan.FromMicroseconds(20) }, scheduler, null, null, inner =>
        {
            // The root's server reports to the client over a slow link; its hop to the sink's server is fast.
            ((InprocTransport)inner).Jitter(NodeId.CacheServer(0), NodeId.Client(0), TimeSpan.FromMilliseconds(5), new Slowest(), static m => m is FunctionDoneMsg);
            return inner;
        });
        cluster.Register(Chain());
        var records = new List<CausalFunctionRecord>();
        cluster.OnFunction = records.Add;
        CausalResult? result = null;
        cluster.Submit("chain", Args.Empty, r => result = r, new CausalInvocation { Placement = [0, 1] });
        scheduler.RunToQuiescence();
        Assert.Null(scheduler.Fault);
        Assert.NotNull(result);
        Assert.True(result!.Succeeded, result.Reason);
        Assert.Equal(41L, Value.ToLong(result.Output("read")!));
        // The committed transaction's history holds both functions: a record left out hides its reads from the checker.
        Assert.Equal([0, 1], records.Select(r => r.Function).Order());
        Assert.All(records, r => Assert.True(r.Ok));
    }
}
