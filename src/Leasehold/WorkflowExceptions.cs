namespace Leasehold;

/// <summary>A workflow definition that cannot be registered; the message names the culprit.</summary>
public sealed class WorkflowDefinitionException(string message) : Exception(message);

/// <summary>Thrown by <see cref="FunctionContext.Abort"/> to unwind a body; the engine turns it into an outcome.</summary>
public sealed class WorkflowAbortedException(string reason) : Exception(reason)
{
    public string Reason { get; } = reason;
}

/// <summary>
/// A function used its <see cref="FunctionContext"/> after its body returned — from a Task it started and did not
/// wait for, or from an async body. Bodies are synchronous: the engine takes a body's writes when it returns, so a
/// later read or write is refused rather than lost or applied behind the engine's back.
/// </summary>
public sealed class FunctionContextClosedException(string workflow, string function)
    : InvalidOperationException($"function '{function}' of workflow '{workflow}' used its context after its body returned; bodies are synchronous, so work a body starts must finish before it returns (a Task it does not wait for would lose its writes)");

/// <summary>A function broke the rules of its declaration (undeclared key, write to a read-only key, Abort without MayAbort).</summary>
public sealed class DeclarationViolationException(string message) : Exception(message);
