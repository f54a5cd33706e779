using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Engine;

/// <summary>
/// A body cannot turn a broken declaration or an abort into a success by catching the exception the
/// context throws (a catch-all in user code is common): the workflow still fails or aborts, and its
/// writes do not take effect. The serial reference judges bodies the same way.
/// </summary>
public class SwallowedViolationTests
{
    private const string T = "t";

    private static readonly KeyValuePair<StateKey, byte[]>[] Initial = [new(new StateKey(T, "A"), Value.FromLong(100))];

    private static WorkflowDefinition Swallowing(string name, bool mayAbort, Action<FunctionContext> misbehave) =>
        new WorkflowBuilder(name)
            .Function("sneaky", f =>
            {
                f.Updates(T, a => "A");
                if (mayAbort) f.MayAbort();
                f.Body(ctx =>
                {
                    ctx.WriteLong(T, "A", 555);
                    try { misbehave(ctx); }
                    catch (Exception) { /* user code that swallows everything */ }
                    return Value.FromLong(7);
                });
            })
            .Build();

    public static TheoryData<string, bool, WorkflowStatus, string> Cases() => new()
    {
        { "read-undeclared", false, WorkflowStatus.Failed, "did not declare" },
        { "write-undeclared", false, WorkflowStatus.Failed, "did not declare" },
        { "abort-undeclared", false, WorkflowStatus.Failed, "MayAbort" },
        { "abort-declared", true, WorkflowStatus.Aborted, "out of stock" },
    };

    private static Action<FunctionContext> Misbehaviour(string name) => name switch
    {
        "read-undeclared" => ctx => ctx.Read(T, "Z"),
        "write-undeclared" => ctx => ctx.WriteLong(T, "Z", 1),
        "abort-undeclared" or "abort-declared" => ctx => ctx.Abort("out of stock"),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_caught_violation_or_abort_still_ends_the_workflow(string name, bool mayAbort, WorkflowStatus expected, string cause)
    {
        var workflow = Swallowing(name, mayAbort, Misbehaviour(name));
        for (int seed = 1; seed <= 4; seed++)
        {
            var sim = new SimulatedCluster(seed, new ClusterOptions { Workers = 2 }, Initial, workflow);
            int i = sim.Submit(name, Args.Empty);
            sim.RunToCompletion();
            var result = sim.Result(i);
            Assert.True(result.Status == expected, $"seed {seed}: {name} gave {result}");
            Assert.Contains("sneaky", result.Reason);
            Assert.Contains(cause, result.Reason);
            Assert.Equal(100, sim.CommittedLong(T, "A"));
            Assert.Null(sim.Committed(new StateKey(T, "Z")));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_serial_reference_judges_a_caught_violation_alike(string name, bool mayAbort, WorkflowStatus expected, string cause)
    {
        var reference = new SerialReference(Initial);
        var result = reference.Execute(Swallowing(name, mayAbort, Misbehaviour(name)), Args.Empty, 1, DateTimeOffset.UnixEpoch);
        Assert.Equal(expected, result.Status);
        Assert.Contains(cause, result.Reason);
        Assert.Equal(100, Value.ToLong(reference.Get(new StateKey(T, "A"))));
    }
}
