using Leasehold.Runtime.Causal.Versioned;

namespace Leasehold.Runtime.Causal.Baselines;

/// <summary>
/// The <see cref="FunctionContext"/> of a baseline function. Bodies are synchronous, so everything that
/// needs a round trip happened before it ran: <paramref name="view"/> holds the version prepared for every
/// declared key. A read returns the workflow's own buffered write if it has one, else the prepared
/// version, and joins the read set; a write is buffered until the workflow commits. Declarations are
/// enforced as CausalContext enforces them.
/// </summary>
internal sealed class BaselineContext(WorkflowDefinition workflow, FunctionDefinition function, Args args, long workflowId, DateTimeOffset now,
    IReadOnlyDictionary<StateKey, StoredVersion> view, Flow flow, int server, byte[]?[] outputs, bool record) : FunctionContext
{
    private Random? _random;

    public List<CausalOp>? Ops { get; } = record ? [] : null;
    public string? Violation { get; private set; }

    public override Args Args => args;
    public override long Timestamp => workflowId;
    public override DateTimeOffset BatchTime => now;
    public override string FunctionName => function.Name;
    public override Random Random => _random ??= new Random(HashCode.Combine(workflowId, function.Index));

    public override byte[]? Read(string table, string key)
    {
        var k = Declared(table, key, forWrite: false);
        byte[]? value;
        bool initial;
        if (flow.Writes.TryGetValue(k, out var mine))
        {
            value = mine.Value;
            initial = false;
        }
        else
        {
            var version = view[k];
            value = version.Value;
            initial = version.Version.Clock.IsZero && version.Timestamp == 0;
            flow.Reads[k] = new ReadEntry(version, server);
        }
        Ops?.Add(new CausalOp(false, k, value, initial));
        return value is null ? null : (byte[])value.Clone();
    }

    public override void Write(string table, string key, byte[]? value)
    {
        var k = Declared(table, key, forWrite: true);
        var copy = value is null ? null : (byte[])value.Clone();
        flow.Writes[k] = (copy, function.Index);
        Ops?.Add(new CausalOp(true, k, copy));
    }

    public override byte[]? Parent(string functionName)
    {
        foreach (var p in function.Parents)
            if (workflow.Functions[p].Name == functionName) return outputs[p];
        throw Fail($"function '{function.Name}' asked for the output of '{functionName}', which is not one of its parents");
    }

    public override void Abort(string reason) =>
        throw Fail($"function '{function.Name}' called Abort(\"{reason}\"), but causal workflows never abort by themselves");

    private StateKey Declared(string table, string key, bool forWrite)
    {
        bool declared = false;
        foreach (var access in function.Accesses)
            if (access.Table == table && !access.AnyKey && access.KeySelector(args) == key)
            {
                if (!forWrite || access.Mode == AccessMode.ReadWrite) return new StateKey(table, key);
                declared = true;
            }
        if (declared) throw Fail($"function '{function.Name}' wrote {table}/{key}, which it declared read-only");
        throw Fail($"function '{function.Name}' {(forWrite ? "wrote" : "read")} {table}/{key}, which it did not declare");
    }

    private DeclarationViolationException Fail(string message)
    {
        Violation ??= message;
        return new DeclarationViolationException(message);
    }

    /// <summary>Every key a function declares (reads and updates), in declaration order without repeats: what is prepared before it runs.</summary>
    public static List<StateKey> DeclaredKeys(FunctionDefinition function, Args args)
    {
        var keys = new List<StateKey>();
        foreach (var a in function.Accesses)
        {
            var k = new StateKey(a.Table, a.KeySelector(args));
            if (!keys.Contains(k)) keys.Add(k);
        }
        return keys;
    }
}
