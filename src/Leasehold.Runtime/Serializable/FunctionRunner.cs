using Leasehold.Runtime.Transport.Wire;

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
    /// <summary>
    /// The longest reason an outcome keeps: the reason crosses from worker to driver in a message, and the wire
    /// refuses a longer string, so an exception with a huge message would otherwise be undeliverable.
    /// </summary>
    public static int MaxReasonChars => WireLimits.Default.MaxStringChars;

    public static FunctionOutcome Run(OperationContext context, FunctionDefinition function, TimeProvider time, TimeSpan limit)
    {
        var outcome = RunBody(context, function, time, limit);
        return outcome.Reason is { } reason && reason.Length > MaxReasonChars ? outcome with { Reason = Clip(reason) } : outcome;
    }

    /// <summary>The first <see cref="MaxReasonChars"/> characters of <paramref name="reason"/>, saying how long it was.</summary>
    public static string Clip(string reason) => Clip(reason, MaxReasonChars);

    /// <summary>The first <paramref name="max"/> characters of <paramref name="text"/>, saying how long it was.</summary>
    public static string Clip(string text, int max)
    {
        if (text.Length <= max) return text;
        string tail = $"… ({text.Length} characters, clipped)";
        return string.Concat(text.AsSpan(0, max - tail.Length), tail);
    }

    private static FunctionOutcome RunBody(OperationContext context, FunctionDefinition function, TimeProvider time, TimeSpan limit)
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
        // An output travels to the driver and the caller as a value does: one a region could not hold fails like an oversized write.
        if (output is not null && output.Length > context.MaxValueBytes)
            return new(WorkflowStatus.Failed, null, null, $"function '{function.Name}' returned {output.Length} bytes; the configured maximum value size is {context.MaxValueBytes} bytes (MaxValueBytes)");
        return new(WorkflowStatus.Committed, output, context.Writes, null);
    }

    private static FunctionOutcome? Ended(OperationContext context) =>
        context.Ended is { } e ? new FunctionOutcome(e.Status, null, null, e.Reason) : null;
}
