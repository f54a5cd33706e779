namespace Leasehold.Runtime.Causal;

/// <summary>One micro-operation of a function as it ran: a read and the value it got (Initial: nobody's write), or a write.</summary>
public readonly record struct CausalOp(bool IsWrite, StateKey Key, byte[]? Value, bool Initial = false);

/// <summary>
/// The <see cref="FunctionContext"/> of a causal function: each read and write goes to the cache server
/// the function runs on, with the workflow's session, at once (causal reads and writes never wait for
/// anyone). Declarations are enforced as in the serializable mode; a causal function cannot abort.
/// </summary>
internal sealed class CausalContext(WorkflowDefinition workflow, FunctionDefinition function, Args args, long workflowId, DateTimeOffset now,
    ICacheServer server, CausalSession session, byte[]?[] outputs, bool record) : CausalFunctionContext(workflow, function, args, workflowId, now, outputs, record)
{
    public override byte[]? Read(string table, string key)
    {
        var k = Declared(table, key, forWrite: false);
        var version = server.Read(session, k);
        var value = version.Value;
        Ops?.Add(new CausalOp(false, k, value, version.Clock.IsZero));
        return value is null ? null : (byte[])value.Clone();
    }

    public override void Write(string table, string key, byte[]? value)
    {
        var k = Declared(table, key, forWrite: true);
        var copy = value is null ? null : (byte[])value.Clone();
        server.Write(session, k, copy);
        Ops?.Add(new CausalOp(true, k, copy));
    }

    public override void Abort(string reason) =>
        throw Fail($"function '{Function.Name}' called Abort(\"{reason}\"), but causal workflows never abort (their writes are visible at once)");
}
