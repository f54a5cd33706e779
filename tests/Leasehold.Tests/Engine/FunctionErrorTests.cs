using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Engine;

/// <summary>
/// A function that breaks its declaration or throws fails its workflow: the caller gets Failed with a
/// reason naming the function and the cause, and nothing of the workflow reaches the committed store,
/// even what an earlier function of the same workflow already wrote.
/// </summary>
public class FunctionErrorTests
{
    private const string T = "t";

    public enum Fault
    {
        ReadUndeclared,
        WriteUndeclared,
        WriteReadOnly,
        AbortWithoutMayAbort,
        Throw,
        ParentThatIsNotAParent,
    }

    private static readonly KeyValuePair<StateKey, byte[]>[] Initial =
    [
        new(new StateKey(T, "A"), Value.FromLong(100)),
        new(new StateKey(T, "B"), Value.FromLong(200)),
        new(new StateKey(T, "C"), Value.FromLong(300)),
    ];

    /// <summary>first: updates A (and B); second (after first): reads B, updates C, then commits the fault.</summary>
    private static WorkflowDefinition Faulty(Fault fault) => new WorkflowBuilder("faulty")
        .Function("first", f => f
            .Updates(T, a => "A")
            .Updates(T, a => "B")
            .Body(ctx =>
            {
                ctx.WriteLong(T, "A", 111);
                ctx.WriteLong(T, "B", 222);
                return Value.FromLong(1);
            }))
        .Function("second", f => f
            .After("first")
            .Reads(T, a => "B")
            .Updates(T, a => "C")
            .Body(ctx =>
            {
                ctx.WriteLong(T, "C", 333);
                switch (fault)
                {
                    case Fault.ReadUndeclared: ctx.Read(T, "Z"); break;
                    case Fault.WriteUndeclared: ctx.WriteLong(T, "Z", 1); break;
                    case Fault.WriteReadOnly: ctx.WriteLong(T, "B", 999); break;
                    case Fault.AbortWithoutMayAbort: ctx.Abort("changed my mind"); break;
                    case Fault.Throw: throw new InvalidOperationException("boom");
                    case Fault.ParentThatIsNotAParent: ctx.Parent("second"); break;
                }
                return null;
            }))
        .Build();

    /// <summary>Reads A alone, so nothing orders it behind the faulty function: only the outcome barrier keeps A's tentative write from it.</summary>
    private static WorkflowDefinition ReadA() => new WorkflowBuilder("readA")
        .Function("read", f => f.Reads(T, a => "A").Body(ctx => ctx.Read(T, "A")))
        .Build();

    private static WorkflowDefinition Reader() => new WorkflowBuilder("reader")
        .Function("read", f => f
            .Reads(T, a => "A").Reads(T, a => "B").Reads(T, a => "C")
            .Body(ctx => Value.FromString($"{ctx.ReadLong(T, "A")},{ctx.ReadLong(T, "B")},{ctx.ReadLong(T, "C")}")))
        .Build();

    private static string[] ExpectedCause(Fault fault) => fault switch
    {
        Fault.ReadUndeclared => ["t/Z", "did not declare"],
        Fault.WriteUndeclared => ["t/Z", "did not declare"],
        Fault.WriteReadOnly => ["t/B", "read-only"],
        Fault.AbortWithoutMayAbort => ["Abort", "MayAbort"],
        Fault.Throw => ["InvalidOperationException", "boom"],
        Fault.ParentThatIsNotAParent => ["not one of its parents"],
        _ => throw new ArgumentOutOfRangeException(nameof(fault)),
    };

    public static TheoryData<Fault, int> Cases()
    {
        var data = new TheoryData<Fault, int>();
        foreach (var fault in Enum.GetValues<Fault>())
            foreach (int workers in new[] { 1, 3 })
                data.Add(fault, workers);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_faulty_function_fails_the_workflow_and_changes_nothing(Fault fault, int workers)
    {
        for (int seed = 1; seed <= 8; seed++)
        {
            // Load only: requests spread over workers, so the faulty one and the readers often sit apart.
            // One batch holds everything submitted before running, so the readers run concurrently with it.
            var options = new ClusterOptions
            {
                Workers = workers, AffinityWeight = 0, LoadWeight = 1,
                LinkLatency = TimeSpan.FromMicroseconds(seed % 3), RemoteOpLatency = TimeSpan.FromMicroseconds(seed % 4),
            };
            var sim = new SimulatedCluster(seed, options, Initial, Faulty(fault), Reader(), ReadA());
            int before = sim.Submit("reader", Args.Empty);
            int bad = sim.Submit("faulty", Args.Empty);
            int readA = sim.Submit("readA", Args.Empty);
            int sameBatch = sim.Submit("reader", Args.Empty);
            sim.RunToCompletion();
            Assert.Equal(1, sim.Cluster.LastCommittedBatch);
            int later = sim.Submit("reader", Args.Empty);
            sim.RunToCompletion();

            var result = sim.Result(bad);
            Assert.True(result.Status == WorkflowStatus.Failed, $"seed {seed}: {result}");
            Assert.Contains("'second'", result.Reason);
            foreach (var cause in ExpectedCause(fault)) Assert.Contains(cause, result.Reason);

            Assert.Equal(100, sim.CommittedLong(T, "A"));
            Assert.Equal(200, sim.CommittedLong(T, "B"));
            Assert.Equal(300, sim.CommittedLong(T, "C"));
            Assert.Null(sim.Committed(new StateKey(T, "Z")));
            Assert.True(sim.Result(readA).IsCommitted, $"seed {seed}: {sim.Result(readA)}");
            Assert.Equal(100, Value.ToLong(sim.Result(readA).Output("read")));
            foreach (int r in new[] { before, sameBatch, later })
            {
                Assert.True(sim.Result(r).IsCommitted, $"seed {seed}: reader {r}: {sim.Result(r)}");
                Assert.Equal("100,200,300", Value.ToText(sim.Result(r).Output("read")));
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void A_key_selector_that_throws_fails_naming_the_function_and_the_table(int workers)
    {
        var workflow = new WorkflowBuilder("selective")
            .Function("fine", f => f.Updates(T, a => "A").Body(ctx => ctx.WriteLong(T, "A", 1)))
            .Function("picky", f => f.After("fine").Updates("ledger", a => a.GetString("missing")).Body(ctx => { }))
            .Build();
        for (int seed = 1; seed <= 4; seed++)
        {
            var sim = new SimulatedCluster(seed, new ClusterOptions { Workers = workers }, Initial, workflow, Reader());
            int bad = sim.Submit("selective", Args.Empty);
            int reader = sim.Submit("reader", Args.Empty);
            sim.RunToCompletion();
            var result = sim.Result(bad);
            Assert.Equal(WorkflowStatus.Failed, result.Status);
            Assert.Contains("'picky'", result.Reason);
            Assert.Contains("'ledger'", result.Reason);
            Assert.Contains("key selector", result.Reason);
            Assert.Equal(100, sim.CommittedLong(T, "A"));
            Assert.Equal("100,200,300", Value.ToText(sim.Result(reader).Output("read")));
        }
    }

    [Fact]
    public void A_key_selector_that_returns_null_fails_the_workflow()
    {
        var workflow = new WorkflowBuilder("nullish")
            .Function("f", f => f.Updates(T, a => null!).Body(ctx => { }))
            .Build();
        var sim = new SimulatedCluster(1, new ClusterOptions { Workers = 2 }, Initial, workflow);
        int bad = sim.Submit("nullish", Args.Empty);
        sim.RunToCompletion();
        Assert.Equal(WorkflowStatus.Failed, sim.Result(bad).Status);
        Assert.Contains("'f'", sim.Result(bad).Reason);
        Assert.Contains("'t'", sim.Result(bad).Reason);
    }
}
