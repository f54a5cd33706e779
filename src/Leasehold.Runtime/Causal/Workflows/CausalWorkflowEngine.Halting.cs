using Leasehold.Runtime.Causal.Messages;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Causal.Workflows;

/// <summary>
/// Stopping on a lost link (issue 16): a CausalMesh ring needs reliable FIFO links, and until servers can leave a
/// ring a broken link stops the whole causal cluster. Every attempt in flight is answered Failed with the reason,
/// every later request Rejected with it (it never ran: the caller's token comes back unchanged), and every server
/// is told to run nothing more. Nothing is dropped without an answer.
/// </summary>
internal sealed partial class CausalWorkflowEngine
{
    // Set once, on the client's mailbox (read by Submit on any thread).
    private string? _halted;

    /// <summary>Why the cluster stopped on a lost link (null: it runs).</summary>
    public string? Halted => Volatile.Read(ref _halted);

    /// <summary>The client's process lost its link to <paramref name="peer"/>: the cluster stops (on the client's mailbox).</summary>
    public void OnLinkLost(NodeId peer, string reason) =>
        _client.Post(() => Halt(CausalNodes.HaltReason($"the link from {CausalNodes.Client} to {peer} was lost: {reason}")));

    /// <summary>On the client's mailbox: fails every attempt in flight, in run order, and tells every server to stop.</summary>
    private void Halt(string reason)
    {
        if (Interlocked.CompareExchange(ref _halted, reason, null) is not null) return;
        foreach (var id in _runs.Keys.Order().ToArray())
        {
            var run = _runs[id];
            if (!End(run)) continue;
            // As a failed function leaves it: a plain workflow's finished functions' writes are visible, a transaction's never were.
            var caller = run.Invocation.Token?.Open() ?? new CausalSession();
            var soFar = run.Transactional ? caller : run.SessionSoFar(caller);
            Deliver(run, null, new CausalResult(WorkflowStatus.Failed, run.Id, reason, run.Outputs, new SessionToken(soFar, _identity), run.Aborts) { Workflow = run.Workflow });
        }
        for (int s = 0; s < _servers; s++) _endpoint.Send(NodeId.CacheServer(s), new CausalHaltMsg(reason));
    }

    /// <summary>A request that arrives once the cluster stopped never runs; the caller keeps its token.</summary>
    private bool RejectedAsHalted(Action<CausalResult> onDone, CausalInvocation invocation, WorkflowDefinition? workflow)
    {
        if (Halted is not { } reason) return false;
        onDone(new CausalResult(WorkflowStatus.Rejected, -1, reason, [], invocation.Token) { Workflow = workflow });
        return true;
    }
}
