using Leasehold.Runtime.Serializable;

namespace Leasehold.Tests.Engine;

/// <summary>
/// The engine's context decodes ReadLong and encodes WriteLong without the intermediate copies of Read and
/// Write; they must still mean exactly Read and Write of <see cref="Value"/>'s encoding, declarations included.
/// </summary>
public class LongAccessorTests
{
    private static readonly StateKey Account = new("t", "a");
    private static readonly StateKey Limit = new("t", "limit");

    private static OperationContext ContextWith(byte[]? account, byte[]? limit)
    {
        var workflow = new WorkflowBuilder("w")
            .Function("f", f => f.Updates("t", _ => "a").Reads("t", _ => "limit").Body(_ => null))
            .Build();
        ResolvedAccess[] accesses = [new(0, Account, AccessMode.ReadWrite), new(1, Limit, AccessMode.Read)];
        return new OperationContext(workflow, workflow.Functions[0], Args.Empty, 1, default, accesses, [account, limit], new byte[]?[1]);
    }

    [Fact]
    public void ReadLong_and_WriteLong_mean_Read_and_Write_of_the_long_encoding()
    {
        var held = Value.FromLong(40);
        var context = ContextWith(held, null);
        Assert.Equal(40, context.ReadLong("t", "a"));
        Assert.Equal(-3, context.ReadLong("t", "limit", absent: -3));

        context.WriteLong("t", "a", 41);
        Assert.Equal(41, context.ReadLong("t", "a")); // the body sees its own write
        var read = context.Read("t", "a")!;
        Assert.Equal(41, Value.ToLong(read));
        read[0] = 99; // a copy: the write the engine takes is unchanged
        Assert.Equal(41, Value.ToLong(context.Writes!.Values[0]));
        Assert.Equal(40, Value.ToLong(held)); // the acquired value is never written through

        context.Write("t", "a", Value.FromString("not a long"));
        Assert.Throws<FormatException>(() => context.ReadLong("t", "a"));
    }

    [Fact]
    public void WriteLong_to_a_read_only_or_undeclared_key_ends_the_workflow_as_Write_does()
    {
        var context = ContextWith(Value.FromLong(1), Value.FromLong(2));
        Assert.Throws<DeclarationViolationException>(() => context.WriteLong("t", "limit", 5));
        Assert.Equal(WorkflowStatus.Failed, context.Ended!.Value.Status);
        Assert.Throws<DeclarationViolationException>(() => context.ReadLong("t", "elsewhere"));
        Assert.Null(context.Writes);
    }

    [Fact]
    public void ReadLong_and_WriteLong_refuse_once_the_body_returned()
    {
        var context = ContextWith(Value.FromLong(1), null);
        context.Close();
        Assert.Throws<FunctionContextClosedException>(() => context.ReadLong("t", "a"));
        Assert.Throws<FunctionContextClosedException>(() => context.WriteLong("t", "a", 2));
    }
}
