namespace Leasehold;

/// <summary>A workflow definition that cannot be registered; the message names the culprit.</summary>
public sealed class WorkflowDefinitionException(string message) : Exception(message);

/// <summary>Thrown by <see cref="FunctionContext.Abort"/> to unwind a body; the engine turns it into an outcome.</summary>
public sealed class WorkflowAbortedException(string reason) : Exception(reason)
{
    public string Reason { get; } = reason;
}

/// <summary>A function broke the rules of its declaration (undeclared key, write to a read-only key, Abort without MayAbort).</summary>
public sealed class DeclarationViolationException(string message) : Exception(message);
