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
    // A root with two children: one fails at once, the other's hop is on a slow link and runs after the result is out.
    private static WorkflowDefinition Fork() => new WorkflowBuilder("fork").WithConsistency(Consistency.Causal)
        .Function("root", f => f.Body(ctx => new byte[] { 1, 2, 3 }))
        .Function("fails", f => f.After("root").Body(ctx => { if (ctx.Args is not null) throw new InvalidOperationException("no"); }))
        .Function("copies", f => f.After("root").Updates(T, a => "seen").Body(ctx => ctx.Write(T, "seen", ctx.Parent("root"))))
        .Build();

    [Fact]
    public void A_caller_changing_a_failed_results_output_does_not_change_what_a_running_child_reads()
    {
        var scheduler = new DeterministicScheduler(1);
        var cluster = new CausalCluster(new CausalOptions { Servers = 3, LinkLatency = TimeSpan.FromMicroseconds(20) }, scheduler, null, null, inner =>
        {
            ((InprocTransport)inner).Jitter(NodeId.CacheServer(0), NodeId.CacheServer(2), TimeSpan.FromMilliseconds(5), new Slowest(), static m => m is FunctionHopMsg);
            return inner;
        });
        cluster.Register(Fork());
        var written = new List<byte[]?>();
        cluster.OnFunction = r => written.AddRange(r.Ops.Where(o => o.IsWrite).Select(o => o.Value));
        CausalResult? result = null;
        cluster.Submit("fork", Args.Empty, r =>
        {
            result = r;
            r.Output("root")![0] = 99; // the caller's result is the caller's to change
        }, new CausalInvocation { Placement = [0, 1, 2] });
        scheduler.RunToQuiescence();
        Assert.Null(scheduler.Fault);
        Assert.Equal(WorkflowStatus.Failed, result!.Status);
        Assert.Equal([1, 2, 3], Assert.Single(written));
    }
}
