namespace Leasehold;

/// <summary>One object of shared state: a key in a table. The same key string in two tables names two objects.</summary>
public readonly record struct StateKey(string Table, string Key)
{
    public override string ToString() => $"{Table}/{Key}";
}

/// <summary>How a function touches a declared key.</summary>
public enum AccessMode : byte
{
    Read = 0,
    ReadWrite = 1,
}

/// <summary>The consistency level a workflow runs under.</summary>
public enum Consistency : byte
{
    Serializable = 0,
    Causal = 1,
}
