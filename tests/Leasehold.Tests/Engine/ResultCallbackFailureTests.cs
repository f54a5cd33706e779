using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Engine;

/// <summary>
/// A Submit callback is user code: one that throws is caught and counted, the rest of its batch is
/// still answered, and the cluster goes on committing later requests.
/// </summary>
public class ResultCallbackFailureTests
{
    private static readonly WorkflowDefinition Add = new WorkflowBuilder("add")
        .Function("add", f => f.Updates("t", a => a.GetString("k")).Body(ctx =>
            ctx.WriteLong("t", ctx.Args.GetString("k"), ctx.ReadLong("t", ctx.Args.GetString("k")) + 1)))
        .Build();

    private static Args Key(string k) => Args.Create().Set("k", k).Build();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task A_throwing_callback_leaves_the_rest_of_its_batch_answered_and_the_cluster_serving(int seed)
    {
        var scheduler = new DeterministicScheduler(seed);
        var store = new MemoryStateStore();
        var cluster = new SerializableCluster(new ClusterOptions { Workers = 2, MaxBatchSize = 100 }, scheduler, store);
        cluster.Register(Add);
        var answers = new WorkflowResult?[5];
        for (int i = 0; i < answers.Length; i++)
        {
            int index = i;
            cluster.Submit("add", Key($"k{i}"), r =>
            {
                answers[index] = r;
                if (index == 1) throw new InvalidOperationException("the application's callback is broken");
            });
        }
        scheduler.RunUntil(() => answers.All(a => a is not null) || scheduler.Fault is not null);
        Assert.True(scheduler.Fault is null, $"seed {seed}: {scheduler.Fault}");
        Assert.All(answers, a => Assert.True(a is { IsCommitted: true }, $"seed {seed}: {a}"));
        Assert.Equal(1, cluster.Counters.CallbackFailures);
        Assert.Contains("broken", cluster.Counters.LastCallbackFailure!.Message);

        WorkflowResult? later = null;
        cluster.Submit("add", Key("k1"), r => later = r);
        scheduler.RunUntil(() => later is not null || scheduler.Fault is not null);
        Assert.True(later is { IsCommitted: true }, $"seed {seed}: {later}; fault {scheduler.Fault}");
        Assert.Equal(2, Value.ToLong(await store.ReadCommittedAsync(new StateKey("t", "k1"))));
    }

    [Fact]
    public void A_throwing_callback_does_not_keep_a_retry_with_the_same_idempotency_key_from_its_answer()
    {
        var scheduler = new DeterministicScheduler(7);
        var cluster = new SerializableCluster(new ClusterOptions { Workers = 1 }, scheduler, new MemoryStateStore());
        cluster.Register(Add);
        WorkflowResult? retry = null;
        cluster.Submit("add", Key("x"), _ => throw new InvalidOperationException("first caller's callback"), idempotencyKey: "once");
        cluster.Submit("add", Key("x"), r => retry = r, idempotencyKey: "once");
        scheduler.RunUntil(() => retry is not null || scheduler.Fault is not null);
        Assert.Null(scheduler.Fault);
        Assert.True(retry is { IsCommitted: true }, $"{retry}");
        Assert.Equal(1, cluster.Counters.CallbackFailures);
    }
}
