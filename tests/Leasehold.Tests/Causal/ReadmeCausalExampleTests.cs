using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;

namespace Leasehold.Tests.Causal;

/// <summary>The README's causal example, compiled and run on real threads.</summary>
public class ReadmeCausalExampleTests
{
    [Fact]
    public async Task The_readme_post_is_read_back_through_the_session_token()
    {
        // --- as in the README ---
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
}
