namespace Leasehold;

/// <summary>A validated workflow: functions in topological order (index = position), with edges and accesses.</summary>
public sealed class WorkflowDefinition
{
    internal WorkflowDefinition(string name, Consistency consistency, FunctionDefinition[] functions)
    {
        Name = name;
        Consistency = consistency;
        Functions = functions;
        AccessCount = functions.Sum(f => f.Accesses.Count);
        MayAbortCount = functions.Count(f => f.MayAbort);
    }

    /// <summary>Functions declared MayAbort.</summary>
    public int MayAbortCount { get; }

    public string Name { get; }
    public Consistency Consistency { get; }
    /// <summary>Functions in topological order; <c>Functions[i].Index == i</c>.</summary>
    public IReadOnlyList<FunctionDefinition> Functions { get; }
    /// <summary>Total number of declared accesses over all functions.</summary>
    public int AccessCount { get; }

    public int IndexOf(string functionName)
    {
        for (int i = 0; i < Functions.Count; i++)
            if (Functions[i].Name == functionName) return i;
        throw new KeyNotFoundException($"workflow '{Name}' has no function '{functionName}'");
    }

    public override string ToString() => Name;
}
