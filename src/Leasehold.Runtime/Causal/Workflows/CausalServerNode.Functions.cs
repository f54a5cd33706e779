using Leasehold.Runtime.Causal.Messages;
using Leasehold.Runtime.Causal.Persistence;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Causal.Workflows;

/// <summary>
/// Running one function body on this server: load its keys (with a store), run it against the server with the
/// session it arrived with, send the session on to its children, and report to the client what it returned, or
/// that it failed, or that the transaction's snapshot is gone here (then its children are skipped).
/// </summary>
internal sealed partial class CausalServerNode
{
    private void Run(FunctionCall call, CausalSession session, List<StateKey>? missed = null)
    {
        // Queued on the modelled CPU or behind a load before the cluster stopped: it does not run now.
        if (RefusedBecauseHalted(call)) return;
        var workflow = workflows.Get(call.Workflow);
        var function = workflow.Functions[call.Function];
        bool transactional = workflow.Consistency == Consistency.TransactionalCausal;
        // With a store, the declared keys (and any an earlier attempt missed) are loaded before the body runs.
        bool stored = server is CacheServer { HasStore: true };
        if (stored && !((CacheServer)server).AllLoaded(FunctionKeys.ToLoad(function, call.Args, missed), () => Run(call, session, missed),
                unreadable => Failed(call, workflow, session, $"function '{function.Name}' could not load its state: {unreadable}", record: null))) return;
        session.IntegratedAt = -1; // it has just arrived here
        if (server is CacheServer mesh) mesh.Prune(session);
        bool defer = stored && FunctionKeys.ReadsAnyKey(function);
        var attempt = defer ? session.Clone() : session; // a discarded attempt leaves the session as it was
        var context = new CausalContext(workflow, function, call.Args, call.RunId, time.GetUtcNow(), server, attempt, call.ParentOutputs, call.Record, defer);
        byte[]? output = null;
        string? failure = null;
        try
        {
            output = function.Body(context);
        }
        catch (SnapshotUnavailableException) when (transactional && context.Violation is null)
        {
            Endpoint.Send(CausalNodes.Client, new AttemptAbortedMsg(call.RunId, server.SnapshotHint()));
            SkipChildren(call.RunId, workflow, function, call.Placement);
            return;
        }
        catch (Exception e)
        {
            failure = context.Violation ?? (context.RuntimeError is { } runtime
                ? $"the causal runtime failed while function '{function.Name}' ran (not an error of the function): {runtime.GetType().Name}: {runtime.Message}"
                : $"function '{function.Name}' threw {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            context.Close();
        }
        if (context.Missed is { } miss)
        {
            Run(call, session, [.. missed ?? [], miss]); // loads it, then runs the body again
            return;
        }
        context.ApplyDeferredWrites();
        session = attempt;
        failure ??= context.Violation;
        var record = call.Record
            ? new FunctionRecordData(call.Process, call.Seq, call.RunId, call.Function, function.Parents, true, server.Id, [.. context.Ops!], transactional)
            : null;
        if (failure is not null)
        {
            Failed(call, workflow, session, failure, record);
            return;
        }
        // A transaction's one sink finishes last, and its session holds every other function's: it commits here, as the writes' head.
        bool commit = transactional && function.Children.Length == 0 && workflow.Functions.Count(f => f.Children.Length == 0) == 1;
        if (commit) server.Commit(session);
        var handedOn = SessionData.Of(session); // immutable: every child and the client build their own from it
        foreach (int child in function.Children)
        {
            var outputs = new byte[]?[workflow.Functions.Count];
            outputs[call.Function] = output;
            Endpoint.Send(NodeId.CacheServer(call.Placement[child]), new FunctionHopMsg(call with { Function = child, Session = handedOn, ParentOutputs = outputs }, Parent: call.Function));
        }
        Endpoint.Send(CausalNodes.Client, new FunctionDoneMsg(call.RunId, call.Function, handedOn, output, record, Committed: commit));
        (server as CacheServer)?.EvictIfFull();
    }

    private void Failed(FunctionCall call, WorkflowDefinition workflow, CausalSession session, string reason, FunctionRecordData? record)
    {
        Endpoint.Send(CausalNodes.Client, new FunctionFailedMsg(call.RunId, call.Function, SessionData.Of(session), reason, record));
        SkipChildren(call.RunId, workflow, workflow.Functions[call.Function], call.Placement);
    }
}
