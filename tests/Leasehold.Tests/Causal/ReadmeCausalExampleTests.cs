using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;

namespace Leasehold.Tests.Causal;

/// <summary>The causal examples of docs/causal.md, compiled and run on real threads.</summary>
public class ReadmeCausalExampleTests
{
    [Fact]
    public async Task The_readme_post_is_read_back_through_the_session_token()
    {
        // --- as in docs/causal.md ---
        var post = new WorkflowBuilder("post").WithConsistency(Consistency.Causal)
            .Function("store", f => f
                .Updates("posts", a => a.GetString("id"))
                .Body(ctx => ctx.WriteLong("posts", ctx.Args.GetString("id"), ctx.Args.GetLong("likes"))))
            .Function("index", f => f
                .After("store")                                        // runs wherever it is placed, after store
                .Updates("latest", a => a.GetString("user"))
                .Body(ctx => ctx.Write("latest", ctx.Args.GetString("user"), System.Text.Encoding.UTF8.GetBytes(ctx.Args.GetString("id")))))
            .Build();
        var show = new WorkflowBuilder("show").WithConsistency(Consistency.Causal)
            .Function("latest", f => f
                .Reads("latest", a => a.GetString("user"))
                .Body(ctx => ctx.Read("latest", ctx.Args.GetString("user"))))
            .Function("post", f => f
                .After("latest")
                .ReadsAny("posts")                                     // a key learnt at run time
                .Body(ctx => ctx.Read("posts", System.Text.Encoding.UTF8.GetString(ctx.Parent("latest")!))))
            .Build();
        using var scheduler = new ThreadPoolScheduler();
        var cluster = new CausalCluster(new CausalOptions { Servers = 4 }, scheduler);
        cluster.Register(post);
        cluster.Register(show);

        var posted = await cluster.InvokeAsync("post", Args.Create().Set("user", "ada").Set("id", "p1").Set("likes", 3).Build());
        var shown = await cluster.InvokeAsync("show", Args.Create().Set("user", "ada").Build(),
            new CausalInvocation { Token = posted.Token });               // read-your-writes into the next workflow
        // shown.Outputs[1] is post p1 (3 likes): whatever servers the two workflows ran on
        // --- end ---

        Assert.True(posted.Succeeded, posted.Reason);
        Assert.True(shown.Succeeded, shown.Reason);
        Assert.Equal(3, Value.ToLong(shown.Outputs[1]));
    }

    [Fact]
    public async Task The_readme_transaction_is_never_seen_half_done()
    {
        // --- as in docs/causal.md ---
        var transfer = new WorkflowBuilder("move").WithConsistency(Consistency.TransactionalCausal)
            .Function("x", f => f.Updates("pairs", a => "x").Body(ctx => { ctx.WriteLong("pairs", "x", ctx.Args.GetLong("v")); return null; }))
            .Function("y", f => f.Updates("pairs", a => "y").Body(ctx => { ctx.WriteLong("pairs", "y", ctx.Args.GetLong("v")); return null; }))
            .Build(); // x and y are written on two servers; nobody ever sees one without the other
        // --- end ---
        var read = new WorkflowBuilder("read").WithConsistency(Consistency.TransactionalCausal)
            .Function("x", f => f.Reads("pairs", a => "x").Body(ctx => Value.FromLong(ctx.ReadLong("pairs", "x"))))
            .Function("y", f => f.After("x").Reads("pairs", a => "y").Body(ctx => Value.FromLong(ctx.ReadLong("pairs", "y"))))
            .Build();
        using var scheduler = new ThreadPoolScheduler();
        var cluster = new CausalCluster(new CausalOptions { Servers = 4, LinkLatency = TimeSpan.FromMicroseconds(50) }, scheduler);
        cluster.Register(transfer);
        cluster.Register(read);
        var writers = Enumerable.Range(1, 200).Select(v => cluster.InvokeAsync("move", Args.Create().Set("v", v).Build(), new CausalInvocation { Placement = [v % 4, (v + 2) % 4] })).ToList();
        var readers = Enumerable.Range(0, 200).Select(i => cluster.InvokeAsync("read", Args.Empty, new CausalInvocation { Placement = [i % 4, (i + 1) % 4] })).ToList();
        foreach (var r in await Task.WhenAll(readers))
        {
            Assert.True(r.Succeeded, r.Reason);
            Assert.Equal(Value.ToLong(r.Outputs[0]), Value.ToLong(r.Outputs[1]));
        }
        Assert.All(await Task.WhenAll(writers), w => Assert.True(w.Succeeded, w.Reason));
    }
}
