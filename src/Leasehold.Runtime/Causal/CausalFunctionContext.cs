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

    public List<CausalOp>? Ops { get; } = record ? [] : null;
    public string? Violation { get; private set; }

    protected FunctionDefinition Function => function;
    public override Args Args => args;
    public override long Timestamp => workflowId;
    public override DateTimeOffset BatchTime => now;
    public override string FunctionName => function.Name;
    // A seed mixed by hand, not HashCode.Combine (randomized per process): a body's draws must replay.
    public override Random Random => _random ??= new Random(unchecked((int)(workflowId * 1_000_003 + function.Index)));

    public override byte[]? Parent(string functionName) => Declarations.Parent(workflow, function, outputs, functionName, Fail);

    protected StateKey Declared(string table, string key, bool forWrite) => Declarations.Resolve(function, args, table, key, forWrite, Fail);

    protected DeclarationViolationException Fail(string message)
    {
        Violation ??= message;
        return new DeclarationViolationException(message);
    }
}
