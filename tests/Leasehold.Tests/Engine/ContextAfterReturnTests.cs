using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Engine;

/// <summary>
/// Bodies are synchronous: the engine takes a body's writes when it returns. A context used after that — by a
/// Task the body started and did not wait for — refuses the call, so a late write is neither lost silently
/// into a commit that already happened nor applied behind the engine's back (on a causal server, off its mailbox).
/// </summary>
public class ContextAfterReturnTests
{
    private const string T = "t";

    [Fact]
    public void A_serializable_context_used_after_its_body_returned_refuses_and_changes_nothing()
    {
        FunctionContext? kept = null;
        var write = new WorkflowBuilder("write")
            .Function("w", f => f.Updates(T, a => "x").Body(ctx =>
            {
                kept = ctx;
                ctx.WriteLong(T, "x", 1);
            }))
            .Build();
        var read = new WorkflowBuilder("read")
            .Function("r", f => f.Reads(T, a => "x").Body(ctx => Value.FromLong(ctx.ReadLong(T, "x"))))
            .Build();
        var sim = new SimulatedCluster(1, new ClusterOptions { Workers = 2 }, [], write, read);
        int w = sim.Submit("write", Args.Empty);
        sim.RunToCompletion();
        Assert.True(sim.Result(w).IsCommitted, $"{sim.Result(w)}");

        var late = Assert.Throws<FunctionContextClosedException>(() => kept!.WriteLong(T, "x", 99));
        Assert.Contains("'w' of workflow 'write'", late.Message);
        Assert.Throws<FunctionContextClosedException>(() => kept!.Read(T, "x"));

        int r = sim.Submit("read", Args.Empty);
        sim.RunToCompletion();
        Assert.Equal(1, Value.ToLong(sim.Result(r).Output("r")));
    }

    [Fact]
    public void A_causal_context_used_after_its_body_returned_refuses_and_changes_nothing()
    {
        FunctionContext? kept = null;
        var scheduler = new DeterministicScheduler(1);
        var cluster = new CausalCluster(new CausalOptions { Servers = 2, Seed = 1 }, scheduler);
        cluster.Register(new WorkflowBuilder("write").WithConsistency(Consistency.Causal)
            .Function("w", f => f.Updates(T, a => "x").Body(ctx =>
            {
                kept = ctx;
                ctx.WriteLong(T, "x", 1);
            }))
            .Build());
        cluster.Register(new WorkflowBuilder("read").WithConsistency(Consistency.Causal)
            .Function("r", f => f.Reads(T, a => "x").Body(ctx => Value.FromLong(ctx.ReadLong(T, "x"))))
            .Build());
        var written = Run(scheduler, cluster, "write", new CausalInvocation { Placement = [0] });
        Assert.True(written.Succeeded, written.Reason);

        Assert.Throws<FunctionContextClosedException>(() => kept!.WriteLong(T, "x", 99));
        Assert.Throws<FunctionContextClosedException>(() => kept!.Read(T, "x"));

        var read = Run(scheduler, cluster, "read", new CausalInvocation { Token = written.Token, Placement = [1] });
        Assert.True(read.Succeeded, read.Reason);
        Assert.Equal(1, Value.ToLong(read.Output("r")));
    }

    [Theory]
    [InlineData(CausalProtocol.CausalMesh)]
    [InlineData(CausalProtocol.HydroCon)]
    [InlineData(CausalProtocol.HydroOpt)]
    [InlineData(CausalProtocol.FaasTcc)]
    public void A_causal_context_refuses_Abort_after_its_body_returned(CausalProtocol protocol)
    {
        FunctionContext? kept = null;
        var scheduler = new DeterministicScheduler(1);
        var runtime = Leasehold.Baselines.CausalRuntime.Create(new CausalOptions { Protocol = protocol, Servers = 2, Seed = 1 }, scheduler);
        runtime.Register(new WorkflowBuilder("write").WithConsistency(Consistency.Causal)
            .Function("w", f => f.Updates(T, a => "x").Body(ctx =>
            {
                kept = ctx;
                ctx.WriteLong(T, "x", 1);
            }))
            .Build());
        CausalResult? result = null;
        runtime.Submit("write", Args.Empty, r => result = r, new CausalInvocation { Placement = [0] });
        scheduler.RunUntil(() => result is not null, 1_000_000);
        Assert.Null(scheduler.Fault);
        Assert.True(result?.Succeeded, result?.Reason ?? "never answered");

        // Refused as closed, not judged as the body's violation: the body returned, and its outcome is taken.
        var late = Assert.Throws<FunctionContextClosedException>(() => kept!.Abort("late"));
        Assert.Contains("'w' of workflow 'write'", late.Message);
    }

    [Fact]
    public void A_serializable_context_refuses_Abort_after_its_body_returned()
    {
        FunctionContext? kept = null;
        var write = new WorkflowBuilder("write")
            .Function("w", f => f.Updates(T, a => "x").MayAbort().Body(ctx =>
            {
                kept = ctx;
                ctx.WriteLong(T, "x", 1);
            }))
            .Build();
        var sim = new SimulatedCluster(1, new ClusterOptions { Workers = 2 }, [], write);
        int w = sim.Submit("write", Args.Empty);
        sim.RunToCompletion();
        Assert.True(sim.Result(w).IsCommitted, $"{sim.Result(w)}");

        Assert.Throws<FunctionContextClosedException>(() => kept!.Abort("late"));
    }

    /// <summary>
    /// The context is the body's object: a body may lock on it. The context's own guard must be private, or a
    /// body that locks the context and waits for a thread using it would wait for itself forever.
    /// </summary>
    [Fact]
    public async Task A_body_that_locks_its_context_and_waits_for_a_thread_using_it_completes()
    {
        var write = new WorkflowBuilder("write")
            .Function("w", f => f.Updates(T, a => "x").Body(IncrementOnAnotherThreadHoldingTheContext))
            .Build();
        // On its own thread, so a deadlocked body fails this test (after a generous liveness bound) instead of hanging the run.
        var run = Task.Run(() =>
        {
            var sim = new SimulatedCluster(1, new ClusterOptions { Workers = 2 }, [], write);
            int w = sim.Submit("write", Args.Empty);
            sim.RunToCompletion();
            return sim.Result(w);
        });
        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromMinutes(2))) == run, "the body never returned: it waits on a thread blocked on the context's guard");
        var result = await run;
        Assert.True(result.IsCommitted, $"{result}");
    }

    [Fact]
    public async Task A_causal_body_that_locks_its_context_and_waits_for_a_thread_using_it_completes()
    {
        var run = Task.Run(() =>
        {
            var scheduler = new DeterministicScheduler(1);
            var cluster = new CausalCluster(new CausalOptions { Servers = 2, Seed = 1 }, scheduler);
            cluster.Register(new WorkflowBuilder("write").WithConsistency(Consistency.Causal)
                .Function("w", f => f.Updates(T, a => "x").Body(IncrementOnAnotherThreadHoldingTheContext))
                .Build());
            return Run(scheduler, cluster, "write", new CausalInvocation { Placement = [0] });
        });
        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromMinutes(2))) == run, "the body never returned: it waits on a thread blocked on the context's guard");
        var result = await run;
        Assert.True(result.Succeeded, result.Reason);
    }

    /// <summary>Locks the context, reads through it on another thread and waits for that thread, then writes.</summary>
    private static void IncrementOnAnotherThreadHoldingTheContext(FunctionContext ctx)
    {
        lock (ctx)
        {
            // A thread, not a Task: a Task not yet started would run inline on this thread and hide a shared guard.
            long seen = -1;
            var reader = new Thread(() => seen = ctx.ReadLong(T, "x"));
            reader.Start();
            reader.Join();
            ctx.WriteLong(T, "x", seen + 1);
        }
    }

    private static CausalResult Run(DeterministicScheduler scheduler, CausalCluster cluster, string workflow, CausalInvocation invocation) =>
        Causal.CausalRun.Invoke(scheduler, cluster, workflow, Args.Empty, invocation);
}
