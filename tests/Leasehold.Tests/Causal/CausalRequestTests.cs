using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;

namespace Leasehold.Tests.Causal;

/// <summary>What a caller of a causal cluster sees: its request is its own once submitted, results keep its session, outputs by name.</summary>
public class CausalRequestTests
{
    private const string T = "t";

    private static WorkflowDefinition WriteThenRead() => new WorkflowBuilder("write-then-read").WithConsistency(Consistency.Causal)
        .Function("write", f => f.Updates(T, a => "x").Body(ctx => { ctx.WriteLong(T, "x", ctx.Args.GetLong("v")); return null; }))
        .Function("read", f => f.After("write").Reads(T, a => "x").Body(ctx => Value.FromLong(ctx.ReadLong(T, "x"))))
        .Build();

    private static CausalResult Run(DeterministicScheduler scheduler, CausalCluster cluster, string workflow, Args args, CausalInvocation invocation) =>
        CausalRun.Invoke(scheduler, cluster, workflow, args, invocation);

    [Fact]
    public void Editing_the_placement_array_after_submitting_moves_no_function()
    {
        var scheduler = new DeterministicScheduler(1);
        var cluster = new CausalCluster(new CausalOptions { Servers = 4, LinkLatency = TimeSpan.FromMilliseconds(1) }, scheduler);
        cluster.Register(WriteThenRead());
        var ran = new List<CausalFunctionRecord>();
        cluster.OnFunction = ran.Add;
        int[] placement = [0, 2];
        CausalResult? result = null;
        cluster.Submit("write-then-read", Args.Create().Set("v", 1).Build(), r => result = r, new CausalInvocation { Placement = placement });
        placement[1] = 3; // before the second function has hopped anywhere
        scheduler.RunUntil(() => result is not null, 1_000_000);
        Assert.True(result!.Succeeded, result.Reason);
        Assert.Equal([0, 2], ran.OrderBy(r => r.Function).Select(r => r.Server));
    }

    /// <summary>Siblings share their parent's output: each must get its own copy, or an edit in place leaks to the others and the caller.</summary>
    [Fact]
    public void A_child_that_edits_its_parents_output_in_place_changes_nothing_outside_itself()
    {
        var workflow = new WorkflowBuilder("fan").WithConsistency(Consistency.Causal)
            .Function("make", f => f.Body(ctx => new byte[] { 1, 2, 3 }))
            .Function("edit", f => f.After("make").Body(ctx =>
            {
                var mine = ctx.Parent("make")!;
                mine[0] = 99;
                return mine;
            }))
            .Function("look", f => f.After("make").Body(ctx => ctx.Parent("make")))
            .Build();
        for (int seed = 0; seed < 10; seed++)
        {
            var scheduler = new DeterministicScheduler(seed);
            var cluster = new CausalCluster(new CausalOptions { Servers = 2, Seed = seed }, scheduler);
            cluster.Register(workflow);
            // "edit" first on one server, "look" after it on the same one, so the edit would be seen if shared.
            var result = Run(scheduler, cluster, "fan", Args.Empty, new CausalInvocation { Placement = [0, 1, 1] });
            Assert.True(result.Succeeded, $"seed {seed}: {result.Reason}");
            Assert.True(new byte[] { 1, 2, 3 }.AsSpan().SequenceEqual(result.Output("make")), $"seed {seed}: the caller's copy of 'make' changed");
            Assert.True(new byte[] { 1, 2, 3 }.AsSpan().SequenceEqual(result.Output("look")), $"seed {seed}: the sibling saw the edit");
            Assert.Equal(99, result.Output("edit")![0]);
        }
    }

    [Fact]
    public void A_rejected_request_hands_the_callers_token_back()
    {
        var scheduler = new DeterministicScheduler(1);
        var cluster = new CausalCluster(new CausalOptions { Servers = 2 }, scheduler);
        cluster.Register(WriteThenRead());
        var token = Run(scheduler, cluster, "write-then-read", Args.Create().Set("v", 1).Build(), new CausalInvocation { Placement = [0, 1] }).Token!;

        var unknown = Run(scheduler, cluster, "no-such-workflow", Args.Empty, new CausalInvocation { Token = token });
        Assert.Equal(WorkflowStatus.Rejected, unknown.Status);
        Assert.Same(token, unknown.Token);
        var misplaced = Run(scheduler, cluster, "write-then-read", Args.Empty, new CausalInvocation { Token = token, Placement = [0, 5] });
        Assert.Equal(WorkflowStatus.Rejected, misplaced.Status);
        Assert.Same(token, misplaced.Token);
    }

    [Fact]
    public void Outputs_are_found_by_function_name_and_a_result_without_them_says_why()
    {
        var scheduler = new DeterministicScheduler(1);
        var cluster = new CausalCluster(new CausalOptions { Servers = 2 }, scheduler);
        cluster.Register(WriteThenRead());
        cluster.Register(new WorkflowBuilder("fails").WithConsistency(Consistency.Causal)
            .Function("boom", f => f.Body(_ => throw new InvalidOperationException("boom"))).Build());

        var done = Run(scheduler, cluster, "write-then-read", Args.Create().Set("v", 4).Build(), new CausalInvocation { Placement = [0, 1] });
        Assert.Equal(4, Value.ToLong(done.Output("read")));
        Assert.True(done.TryGetOutput("read", out var read));
        Assert.Equal(4, Value.ToLong(read));
        // An unknown name is a bug, not an outcome: it throws from both forms, as WorkflowResult's do.
        Assert.Throws<KeyNotFoundException>(() => done.TryGetOutput("nope", out _));
        Assert.Throws<KeyNotFoundException>(() => done.Output("nope"));

        // A failed plain causal workflow ran up to its failure: what ran has outputs (here none returned one).
        var failed = Run(scheduler, cluster, "fails", Args.Empty, new CausalInvocation());
        Assert.Equal(WorkflowStatus.Failed, failed.Status);
        Assert.NotNull(failed.Token);
        Assert.True(failed.TryGetOutput("boom", out var boom));
        Assert.Null(boom);
        var rejected = Run(scheduler, cluster, "no-such-workflow", Args.Empty, new CausalInvocation());
        Assert.False(rejected.TryGetOutput("read", out _));
        var never = Assert.Throws<InvalidOperationException>(() => rejected.Output("read"));
        Assert.Contains("Rejected", never.Message);
        Assert.Contains("no workflow named", never.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Messages_count_every_ring_message_with_or_without_jitter(int servers)
    {
        long Messages(TimeSpan jitter)
        {
            var scheduler = new DeterministicScheduler(1);
            var cluster = new CausalCluster(new CausalOptions { Servers = servers, LinkLatency = TimeSpan.FromMicroseconds(10), RingJitter = jitter }, scheduler);
            cluster.Register(WriteThenRead());
            cluster.Submit("write-then-read", Args.Create().Set("v", 1).Build(), _ => { }, new CausalInvocation { Placement = [0, servers - 1] });
            scheduler.RunToQuiescence();
            Assert.Null(scheduler.Fault);
            Assert.True(cluster.RingMessages > 0);
            return cluster.Messages;
        }
        // Jitter only delays ring messages: the same workflow sends the same messages.
        Assert.Equal(Messages(TimeSpan.Zero), Messages(TimeSpan.FromMicroseconds(50)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Without_eager_integration_a_fresh_reader_of_a_quiet_cluster_sees_the_last_write(int seed)
    {
        var scheduler = new DeterministicScheduler(seed);
        var cluster = new CausalCluster(new CausalOptions { Servers = 4, LinkLatency = TimeSpan.FromMicroseconds(10), EagerIntegration = false, CheckInvariants = true, Seed = seed }, scheduler);
        cluster.Register(WriteThenRead());
        cluster.Register(new WorkflowBuilder("read-x").WithConsistency(Consistency.Causal)
            .Function("read", f => f.Reads(T, a => "x").Body(ctx => Value.FromLong(ctx.ReadLong(T, "x")))).Build());
        Assert.True(Run(scheduler, cluster, "write-then-read", Args.Create().Set("v", 9).Build(), new CausalInvocation { Placement = [seed % 4, seed % 4] }).Succeeded);
        scheduler.RunToQuiescence(); // the write's laps and its stable notice are done
        Assert.Null(scheduler.Fault);
        for (int server = 0; server < 4; server++)
        {
            var fresh = Run(scheduler, cluster, "read-x", Args.Empty, new CausalInvocation { Placement = [server] });
            Assert.True(9 == Value.ToLong(fresh.Output("read")), $"seed {seed}: a fresh reader on server {server} read {Value.ToLong(fresh.Output("read"))}, not the last write (9)");
        }
    }
}
