using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Sdk;

/// <summary>SerializableCluster.Register: unique names, serializable only, one consistency level per table; a refused workflow leaves nothing behind.</summary>
public class ClusterRegistrationTests
{
    private static SerializableCluster NewCluster() =>
        new(new ClusterOptions { Workers = 2 }, new DeterministicScheduler(1), new MemoryStateStore());

    private static WorkflowDefinition OneFunction(string name, string table, Consistency consistency = Consistency.Serializable) =>
        new WorkflowBuilder(name)
            .WithConsistency(consistency)
            .Function("touch", f => f.Updates(table, a => a.GetString("k")).Body(ctx => { }))
            .Build();

    [Fact]
    public void A_duplicate_workflow_name_is_rejected()
    {
        var cluster = NewCluster();
        var original = OneFunction("pay", "accounts");
        cluster.Register(original);
        var e = Assert.Throws<WorkflowDefinitionException>(() => cluster.Register(OneFunction("pay", "other")));
        Assert.Contains("'pay'", e.Message);
        Assert.Contains("already registered", e.Message);
        Assert.Same(original, cluster.Workflow("pay"));
    }

    [Fact]
    public void A_causal_workflow_is_rejected()
    {
        var cluster = NewCluster();
        var e = Assert.Throws<WorkflowDefinitionException>(() => cluster.Register(OneFunction("feed", "posts", Consistency.Causal)));
        Assert.Contains("'feed'", e.Message);
        Assert.Contains("Causal", e.Message);
        Assert.Throws<KeyNotFoundException>(() => cluster.Workflow("feed"));
    }

    [Fact]
    public void A_table_already_used_serializably_cannot_be_used_by_another_consistency_level()
    {
        var cluster = NewCluster();
        cluster.Register(OneFunction("pay", "accounts"));
        var e = Assert.Throws<WorkflowDefinitionException>(() => cluster.Register(OneFunction("peek", "accounts", Consistency.Causal)));
        Assert.Contains("'peek'", e.Message);
        Assert.Throws<KeyNotFoundException>(() => cluster.Workflow("peek"));
        // The refusal left the registry intact: another serializable workflow may share the table.
        cluster.Register(OneFunction("refund", "accounts"));
        Assert.Equal("refund", cluster.Workflow("refund").Name);
    }

    [Fact]
    public void Submitting_an_unregistered_workflow_is_rejected()
    {
        var cluster = NewCluster();
        WorkflowResult? result = null;
        cluster.Submit("nope", Args.Empty, r => result = r);
        Assert.NotNull(result);
        Assert.Equal(WorkflowStatus.Rejected, result!.Status);
        Assert.Contains("'nope'", result.Reason);
    }
}
