namespace Leasehold;

/// <summary>
/// One declared state access: a table, a key selector over the request's parameters, a mode. An
/// any-key access (<see cref="AnyKey"/>, no selector) lets a body reach keys it only learns while it
/// runs — a causal workflow following ids it read; the serializable mode refuses it, since its driver
/// must know every key before the workflow runs.
/// </summary>
public sealed record StateAccess(string Table, Func<Args, string> KeySelector, AccessMode Mode, bool AnyKey = false);

/// <summary>A registered function: its place in the workflow, its declared state, and its body.</summary>
public sealed class FunctionDefinition
{
    internal FunctionDefinition(string name, int index, StateAccess[] accesses, bool mayAbort,
        Func<FunctionContext, byte[]?> body, int[] parents)
    {
        Name = name;
        Index = index;
        Accesses = accesses;
        MayAbort = mayAbort;
        Body = body;
        Parents = parents;
    }

    public string Name { get; }
    /// <summary>Position in the workflow's topological order: the second half of an operation's (ts, position).</summary>
    public int Index { get; }
    public IReadOnlyList<StateAccess> Accesses { get; }
    public bool MayAbort { get; }
    public Func<FunctionContext, byte[]?> Body { get; }
    /// <summary>Indexes of the parent functions; every parent has a lower index.</summary>
    public int[] Parents { get; }
    /// <summary>Indexes of the child functions.</summary>
    public int[] Children { get; internal set; } = [];

    /// <summary>
    /// Under <see cref="WriteGating.Strict"/>: whether this function's writes wait for the workflow's outcome
    /// before later workflows may see them — true when some function that is not an ancestor could still
    /// fail after this one ran.
    /// </summary>
    public bool WritesAwaitOutcome { get; internal set; }

    /// <summary>Under <see cref="WriteGating.DeclaredAborts"/>: true when some non-ancestor is declared MayAbort.</summary>
    public bool WritesAwaitDeclaredAborts { get; internal set; }

    public bool WritesWait(WriteGating gating) => gating == WriteGating.Strict ? WritesAwaitOutcome : WritesAwaitDeclaredAborts;

    public bool Writes => Accesses.Any(a => a.Mode == AccessMode.ReadWrite);

    public override string ToString() => Name;
}
