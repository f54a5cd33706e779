namespace Leasehold;

/// <summary>
/// What a function body sees: its declared state, its parents' outputs, the request's parameters,
/// a random source seeded by the request, and the batch time. Bodies must be deterministic given
/// these inputs (re-execution depends on it), so the SDK offers no other clock or randomness.
/// </summary>
public abstract class FunctionContext
{
    /// <summary>The request's parameters.</summary>
    public abstract Args Args { get; }

    /// <summary>The request's global timestamp; every function of the workflow shares it.</summary>
    public abstract long Timestamp { get; }

    /// <summary>The batch's time, fixed when the batch closed: the only "now" a body may use.</summary>
    public abstract DateTimeOffset BatchTime { get; }

    /// <summary>A random source seeded by the request, the same on every re-execution.</summary>
    public abstract Random Random { get; }

    /// <summary>The name of the running function.</summary>
    public abstract string FunctionName { get; }

    /// <summary>Reads a declared key; null when the object does not exist.</summary>
    public abstract byte[]? Read(string table, string key);

    /// <summary>Writes a key declared read-write; null deletes the object.</summary>
    public abstract void Write(string table, string key, byte[]? value);

    /// <summary>The output of a parent function (an edge parent → this function).</summary>
    public abstract byte[]? Parent(string functionName);

    /// <summary>
    /// Ends the whole workflow with a business abort: none of its writes take effect and the caller
    /// gets <paramref name="reason"/>. Only functions declared with <c>MayAbort()</c> may call it.
    /// </summary>
    public abstract void Abort(string reason);

    /// <summary>Reads a declared key as a long (<see cref="Value.ToLong"/>); an absent object reads as <paramref name="absent"/>.</summary>
    public virtual long ReadLong(string table, string key, long absent = 0) => Value.ToLong(Read(table, key), absent);

    /// <summary>Writes a long to a key declared read-write (<see cref="Value.FromLong"/>).</summary>
    public virtual void WriteLong(string table, string key, long value) => Write(table, key, Value.FromLong(value));
}
