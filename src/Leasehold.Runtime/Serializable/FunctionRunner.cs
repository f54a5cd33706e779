namespace Leasehold.Runtime.Serializable;

/// <summary>What running one function body produced: an output and writes, or the reason it ended the workflow.</summary>
internal readonly record struct FunctionOutcome(WorkflowStatus Status, byte[]? Output, WriteSet? Writes, string? Reason)
{
    public bool Succeeded => Status == WorkflowStatus.Committed;
}

/// <summary>
/// Runs a body and maps how it ended: a return succeeds, Abort is a business abort, anything else —
/// an exception, an undeclared key, overrunning the time limit — fails the workflow with the cause named.
/// The engine's executors and the serial reference executor share it, so both judge a body alike.
/// </summary>
internal static class FunctionRunner
{
    public static FunctionOutcome Run(OperationContext context, FunctionDefinition function, TimeProvider time, TimeSpan limit)
    {
        long start = time.GetTimestamp();
        byte[]? output;
        try
        {
            output = function.Body(context);
        }
        catch (WorkflowAbortedException e)
        {
            return Ended(context) ?? new(WorkflowStatus.Aborted, null, null, $"{function.Name}: {e.Reason}");
        }
        catch (DeclarationViolationException e)
        {
            return Ended(context) ?? new(WorkflowStatus.Failed, null, null, e.Message);
        }
        catch (Exception e)
        {
            return Ended(context) ?? new(WorkflowStatus.Failed, null, null, $"function '{function.Name}' threw {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            context.Close();
        }
        // The body returned, but it may have caught the violation or abort it raised: that still ends the workflow.
        if (Ended(context) is { } ended) return ended;
        var elapsed = time.GetElapsedTime(start);
        if (elapsed > limit)
            return new(WorkflowStatus.Failed, null, null, $"function '{function.Name}' ran {elapsed.TotalMilliseconds:F1} ms, past its time limit of {limit.TotalMilliseconds:F1} ms");
        return new(WorkflowStatus.Committed, output, context.Writes, null);
    }

    private static FunctionOutcome? Ended(OperationContext context) =>
        context.Ended is { } e ? new FunctionOutcome(e.Status, null, null, e.Reason) : null;
}
