namespace Leasehold.Runtime.Causal;

/// <summary>
/// What every causal function context shares (CausalMesh's and the baselines'): the request, the
/// recorded operations, declaration checks, parents' outputs, and the violation that ended the body.
/// Subclasses say where reads and writes go.
/// </summary>
internal abstract class CausalFunctionContext(WorkflowDefinition workflow, FunctionDefinition function, Args args, long workflowId, DateTimeOffset now,
    byte[]?[] outputs, bool record) : FunctionContext
{
    private Random? _random;
    private bool _closed;
    // Private, not the context itself: the body holds the context and may lock on it, and a guard it can take
    // would deadlock a body that locks it and waits for another thread using the context.
    private readonly object _guard = new();

    public List<CausalOp>? Ops { get; } = record ? [] : null;
    public string? Violation { get; private set; }

    protected FunctionDefinition Function => function;
    public override Args Args => args;
    public override long Timestamp => workflowId;
    public override DateTimeOffset BatchTime => now;
    public override string FunctionName => function.Name;
    // A seed mixed by hand, not HashCode.Combine (randomized per process): a body's draws must replay.
    public override Random Random => _random ??= new Random(unchecked((int)(workflowId * 1_000_003 + function.Index)));

    /// <summary>
    /// Called when the body has returned (or thrown): from then on the context refuses every call, so a Task the
    /// body left running cannot touch the server's state off its mailbox or add a write the engine never sees.
    /// Every call takes the context's guard, so none is half-way through once this returns.
    /// </summary>
    public void Close()
    {
        lock (_guard) _closed = true;
    }

    private void EnsureOpen()
    {
        if (_closed) throw new FunctionContextClosedException(workflow.Name, function.Name);
    }

    public sealed override byte[]? Read(string table, string key)
    {
        lock (_guard)
        {
            EnsureOpen();
            return ReadDeclared(table, key);
        }
    }

    public sealed override void Write(string table, string key, byte[]? value)
    {
        lock (_guard)
        {
            EnsureOpen();
            WriteDeclared(table, key, value);
        }
    }

    /// <summary>A read by the body, while it runs: where it goes is the protocol's.</summary>
    protected abstract byte[]? ReadDeclared(string table, string key);
    /// <summary>A write by the body, while it runs: where it goes is the protocol's.</summary>
    protected abstract void WriteDeclared(string table, string key, byte[]? value);

    public override byte[]? Parent(string functionName)
    {
        lock (_guard)
        {
            EnsureOpen();
            return Declarations.Parent(workflow, function, outputs, functionName, Fail);
        }
    }

    /// <summary>
    /// Causal workflows never abort by themselves, so Abort is a violation; under the context's guard like every
    /// other call, so one from a Task the body left running is refused and cannot fail a workflow that returned.
    /// </summary>
    public sealed override void Abort(string reason)
    {
        lock (_guard)
        {
            EnsureOpen();
            throw Fail($"function '{function.Name}' called Abort(\"{reason}\"), but {WhyAbortIsRefused}");
        }
    }

    /// <summary>Why this protocol's workflows cannot abort, ending the violation's message.</summary>
    protected abstract string WhyAbortIsRefused { get; }

    protected StateKey Declared(string table, string key, bool forWrite) => Declarations.Resolve(function, args, table, key, forWrite, Fail);

    protected DeclarationViolationException Fail(string message)
    {
        Violation ??= message;
        return new DeclarationViolationException(message);
    }
}
