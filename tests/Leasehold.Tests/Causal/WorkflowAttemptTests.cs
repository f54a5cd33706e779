using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Workflows;

namespace Leasehold.Tests.Causal;

/// <summary>The DAG bookkeeping every causal protocol shares: when a function's children are ready, with what, and when the attempt ends.</summary>
public class WorkflowAttemptTests
{
    /// <summary>A state is the names of the functions it passed through; a join concatenates them in the order given.</summary>
    private sealed class Trail(WorkflowDefinition workflow) : WorkflowAttempt<string>(workflow, Args.Create().Build(), 1, new int[workflow.Functions.Count], new CausalInvocation(), _ => { }, 0)
    {
        public List<(int Child, string Joined)> Finish(int index, string state) => Finished(index, state, Join);
        public bool Done(out string final) => AllDone(Join, out final);
        private static string Join(IReadOnlyList<string> states) => string.Join("+", states);
    }

    // a and b are roots; c waits for both; d follows c.
    private static WorkflowDefinition FanIn() => new WorkflowBuilder("fan-in").WithConsistency(Consistency.Causal)
        .Function("a", f => f.Body(_ => null))
        .Function("b", f => f.Body(_ => null))
        .Function("c", f => f.After("a", "b").Body(_ => null))
        .Function("d", f => f.After("c").Body(_ => null))
        .Build();

    [Fact]
    public void A_fan_in_child_is_ready_once_its_last_parent_finishes_with_every_parents_state_joined()
    {
        var workflow = FanIn();
        int Index(string name) => workflow.Functions.Single(f => f.Name == name).Index;
        var trail = new Trail(workflow);

        Assert.Empty(trail.Finish(Index("a"), "a"));
        Assert.False(trail.Done(out _));
        Assert.Equal([(Index("c"), "a+b")], trail.Finish(Index("b"), "b"));
        Assert.Equal([(Index("d"), "a+b+c")], trail.Finish(Index("c"), "a+b+c"));
        Assert.False(trail.Done(out _));
        Assert.Empty(trail.Finish(Index("d"), "a+b+c+d"));

        Assert.True(trail.Done(out var final));
        Assert.Equal("a+b+a+b+c+a+b+c+d", final); // every function's state, in function order
    }

    [Fact]
    public void Only_the_first_branch_to_end_an_attempt_ends_it()
    {
        var trail = new Trail(FanIn());
        Assert.False(trail.IsFinished);
        Assert.True(trail.TryEnd());
        Assert.True(trail.IsFinished);
        Assert.False(trail.TryEnd());
    }
}
