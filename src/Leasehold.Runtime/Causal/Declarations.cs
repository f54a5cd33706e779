namespace Leasehold.Runtime.Causal;

/// <summary>
/// How a causal function body's accesses are checked against its declarations, shared by CausalMesh's
/// context and the baselines': a key is reachable when some declaration of its table selects it (or is an
/// any-key one), and writable when such a declaration is read-write. <paramref name="fail"/> turns the
/// violation's message into the exception the context throws (and remembers).
/// </summary>
internal static class Declarations
{
    public static StateKey Resolve(FunctionDefinition function, Args args, string table, string key, bool forWrite, Func<string, Exception> fail)
    {
        bool declared = false;
        foreach (var access in function.Accesses)
            if (access.Table == table && (access.AnyKey || access.KeySelector(args) == key))
            {
                if (!forWrite || access.Mode == AccessMode.ReadWrite) return new StateKey(table, key);
                declared = true; // read-only here; a later declaration of the same key may allow the write
            }
        if (declared) throw fail($"function '{function.Name}' wrote {table}/{key}, which it declared read-only");
        throw fail($"function '{function.Name}' {(forWrite ? "wrote" : "read")} {table}/{key}, which it did not declare");
    }

    /// <summary>
    /// A private copy of a parent's output: siblings share the parent's array, so a child that edited it in place
    /// would change what the others and the caller see, and results would depend on scheduling.
    /// </summary>
    public static byte[]? Parent(WorkflowDefinition workflow, FunctionDefinition function, byte[]?[] outputs, string functionName, Func<string, Exception> fail)
    {
        foreach (var p in function.Parents)
            if (workflow.Functions[p].Name == functionName) return outputs[p] is { } output ? (byte[])output.Clone() : null;
        throw fail($"function '{function.Name}' asked for the output of '{functionName}', which is not one of its parents");
    }
}
