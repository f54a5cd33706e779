using Leasehold.Runtime.Causal.Messages;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Causal.Workflows;

/// <summary>
/// A function's hops arriving: a function of one parent (or a root) runs at once; a fan-in waits here for every
/// parent's hop and runs with their sessions joined and their outputs together. A parent that will not send on
/// (it failed, aborted or was skipped) sends a skip instead, so every fan-in ends and none is left waiting: the
/// skipped function does not run, and skips its own children in turn.
/// </summary>
internal sealed partial class CausalServerNode
{
    private sealed class FanIn(int parents)
    {
        public readonly FunctionCall?[] Calls = new FunctionCall?[parents];
        public readonly bool[] Arrived = new bool[parents];
        public int Left = parents;
        public bool Skipped;
    }

    private readonly Dictionary<(long Run, int Function), FanIn> _fanIns = [];

    /// <summary>The fan-ins waiting for a parent (for tests: none once every attempt ended).</summary>
    public int WaitingFanIns => _fanIns.Count;

    /// <param name="call">null: the parent skips the function.</param>
    private void Arrived(long runId, string workflowName, int index, int[] placement, int parent, FunctionCall? call)
    {
        if (!Deployed(runId, workflowName, index, placement, call, out var workflow)) return;
        var function = workflow.Functions[index];
        if (function.Parents.Length > 1)
        {
            if (!_fanIns.TryGetValue((runId, index), out var fanIn)) _fanIns[(runId, index)] = fanIn = new FanIn(function.Parents.Length);
            int slot = Array.IndexOf(function.Parents, parent);
            // Counting a stray or repeated hop would run the fan-in without a parent's session: refused, naming it.
            if (slot < 0 || fanIn.Arrived[slot])
                throw new InvalidOperationException($"server {server.Id}: run {runId} sent function '{function.Name}' of '{workflow.Name}' a hop from function {parent}, "
                    + (slot < 0 ? "which is not one of its parents" : "which had sent it one already"));
            fanIn.Arrived[slot] = true;
            fanIn.Calls[slot] = call;
            fanIn.Skipped |= call is null;
            if (--fanIn.Left > 0) return;
            _fanIns.Remove((runId, index));
            if (fanIn.Skipped) SkipChildren(runId, workflow, function, placement);
            else Serve(Joined(fanIn.Calls!, function, workflow.Functions.Count), CausalSession.Merge(fanIn.Calls.Select(c => c!.Session.ToSession())));
            return;
        }
        if (call is null) SkipChildren(runId, workflow, function, placement);
        else Serve(call, call.Session.ToSession());
    }

    /// <summary>
    /// A hop for a workflow this server's process did not deploy (it loaded other workflows), or whose placement does not
    /// fit the workflow: nothing runs, and the client is told why, so the caller gets an answer naming the cause.
    /// </summary>
    private bool Deployed(long runId, string name, int function, int[] placement, FunctionCall? call, out WorkflowDefinition workflow)
    {
        string? problem = null;
        if (!workflows.TryGet(name, out workflow))
            problem = $"server {server.Id} has no workflow named '{name}' deployed: every process of a causal cluster must load the same workflows";
        else if (placement.Length != workflow.Functions.Count || function < 0 || function >= placement.Length)
            problem = $"server {server.Id}: run {runId} places {placement.Length} functions and names function {function}, but '{name}' has {workflow.Functions.Count} here";
        if (problem is null) return true;
        Interlocked.Increment(ref _undeployed);
        if (call is not null) Endpoint.Send(CausalNodes.Client, new FunctionFailedMsg(runId, function, call.Session, problem, Record: null));
        return false;
    }

    private long _undeployed;

    /// <summary>Hops and skips refused because they named a workflow not deployed here, or did not fit it (read when quiet).</summary>
    public long Undeployed => Interlocked.Read(ref _undeployed);

    private void SkipChildren(long runId, WorkflowDefinition workflow, FunctionDefinition function, int[] placement)
    {
        foreach (int child in function.Children)
            Endpoint.Send(NodeId.CacheServer(placement[child]), new FunctionSkippedMsg(runId, workflow.Name, child, function.Index, placement));
    }

    private void Serve(FunctionCall call, CausalSession session) => cpu.Serve(options.FunctionServiceTime, () => Run(call, session));

    /// <summary>The call with every parent's output; its sessions are joined in the parents' order (as when one attempt object held them).</summary>
    private static FunctionCall Joined(FunctionCall[] calls, FunctionDefinition function, int functions)
    {
        var outputs = new byte[]?[functions];
        for (int p = 0; p < calls.Length; p++) outputs[function.Parents[p]] = calls[p].ParentOutputs[function.Parents[p]];
        return calls[0] with { ParentOutputs = outputs };
    }
}
