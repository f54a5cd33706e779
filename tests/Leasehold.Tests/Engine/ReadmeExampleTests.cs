using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Engine;

/// <summary>The README's example, compiled and run, so the first code a newcomer copies works.</summary>
public class ReadmeExampleTests
{
    [Fact]
    public async Task The_readme_transfer_commits_and_then_aborts_for_lack_of_money()
    {
        // --- as in the README ---
        var transfer = new WorkflowBuilder("transfer")
            .Function("check", f => f
                .Reads("accounts", a => a.GetString("src"))
                .MayAbort()
                .Body(ctx =>
                {
                    long balance = ctx.ReadLong("accounts", ctx.Args.GetString("src"));
                    if (balance < ctx.Args.GetLong("amount")) ctx.Abort($"insufficient balance: {balance}");
                    return Value.FromLong(balance);
                }))
            .Function("withdraw", f => f
                .After("check")
                .Updates("accounts", a => a.GetString("src"))
                .Body(ctx => ctx.WriteLong("accounts", ctx.Args.GetString("src"),
                    Value.ToLong(ctx.Parent("check")) - ctx.Args.GetLong("amount"))))
            .Function("deposit", f => f
                .After("withdraw")
                .Updates("accounts", a => a.GetString("dst"))
                .Body(ctx => ctx.WriteLong("accounts", ctx.Args.GetString("dst"),
                    ctx.ReadLong("accounts", ctx.Args.GetString("dst")) + ctx.Args.GetLong("amount"))))
            .Build();
        var store = new MemoryStateStore();
        store.Load([new(new StateKey("accounts", "alice"), Value.FromLong(15))]);
        using var scheduler = new ThreadPoolScheduler();
        var cluster = new SerializableCluster(new ClusterOptions { Workers = 4 }, scheduler, store);
        cluster.Register(transfer);

        var result = await cluster.InvokeAsync("transfer",
            Args.Create().Set("src", "alice").Set("dst", "bob").Set("amount", 10).Build());
        // --- end of the README's code ---

        Assert.Equal(WorkflowStatus.Committed, result.Status);
        Assert.Equal(15, Value.ToLong(result.Output("check")));
        var again = await cluster.InvokeAsync("transfer", Args.Create().Set("src", "alice").Set("dst", "bob").Set("amount", 10).Build());
        Assert.Equal(WorkflowStatus.Aborted, again.Status);
        Assert.Contains("insufficient balance: 5", again.Reason);
        Assert.Equal(5, Value.ToLong(await store.ReadCommittedAsync(new StateKey("accounts", "alice"))));
        Assert.Equal(10, Value.ToLong(await store.ReadCommittedAsync(new StateKey("accounts", "bob"))));
    }
}
