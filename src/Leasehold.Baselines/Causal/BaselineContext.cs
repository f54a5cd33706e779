using Leasehold.Baselines.Causal.Versioned;
using Leasehold.Runtime.Causal;

namespace Leasehold.Baselines.Causal;

/// <summary>
/// The <see cref="FunctionContext"/> of a baseline function. Bodies are synchronous, so everything that
/// needs a round trip happened before it ran: <paramref name="view"/> holds the version prepared for every
/// declared key. A read returns the workflow's own buffered write if it has one, else the prepared
/// version, and joins the read set; a write is buffered until the workflow commits. Declarations are
/// enforced as CausalContext enforces them.
/// </summary>
internal sealed class BaselineContext(WorkflowDefinition workflow, FunctionDefinition function, Args args, long workflowId, DateTimeOffset now,
    IReadOnlyDictionary<StateKey, StoredVersion> view, Flow flow, int server, byte[]?[] outputs, bool record) : CausalFunctionContext(workflow, function, args, workflowId, now, outputs, record)
{
    protected override byte[]? ReadDeclared(string table, string key)
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

    protected override void WriteDeclared(string table, string key, byte[]? value)
    {
        var k = Declared(table, key, forWrite: true);
        var copy = value is null ? null : (byte[])value.Clone();
        flow.Writes[k] = (copy, Function.Index);
        Ops?.Add(new CausalOp(true, k, copy));
    }

    protected override string WhyAbortIsRefused => "causal workflows never abort by themselves";

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
