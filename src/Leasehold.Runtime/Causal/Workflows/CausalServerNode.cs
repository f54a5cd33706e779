using Leasehold.Runtime.Causal.Messages;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Causal.Workflows;

/// <summary>
/// A cache server as a node of the transport: its one dispatch point. Ring messages go to the server's
/// protocol (CausalMesh's or the eventual control's); a workflow's hops run function bodies here. A finished
/// function's session goes straight on to its children's servers (a fan-in joins its parents' here), and its
/// output and session to the client, which owns the attempt and builds the result. Every delivery is served by the server's modelled
/// CPU (<see cref="ServerCpu"/>): ring messages at <see cref="CausalOptions.MessageServiceTime"/>, function
/// bodies at <see cref="CausalOptions.FunctionServiceTime"/>. Runs on the server's mailbox only.
/// </summary>
internal sealed partial class CausalServerNode(ICacheServer server, ServerCpu cpu, CausalOptions options, CausalWorkflowTable workflows, TimeProvider time)
    : IMessageSink
{
    private Endpoint? _endpoint;
    // Set once, on the server's mailbox: the cluster stopped (a lost link), and this server runs nothing more.
    private string? _halted;
    private long _refused;

    public void Attach(Endpoint endpoint) => _endpoint = endpoint;

    /// <summary>Why the cluster stopped, once it has (null: it runs).</summary>
    public string? Halted => Volatile.Read(ref _halted);

    /// <summary>Hops, ring messages and commits that arrived after the stop and were refused, not run (read when quiet).</summary>
    public long RefusedAfterHalt => Interlocked.Read(ref _refused);

    /// <summary>
    /// On the server's mailbox: the cluster stops. No function runs here from now on and no ring message is served, so no
    /// write is made that a broken ring could lose or reorder; the first reason stays.
    /// </summary>
    public void Halt(string reason) => Interlocked.CompareExchange(ref _halted, reason, null);

    /// <summary>
    /// True when the cluster has stopped: the message is counted, not served. A function that was to run is reported
    /// failed to the client and its children are skipped, so a fan-in waiting for it ends (hops still arrive: they run nothing).
    /// </summary>
    private bool RefusedBecauseHalted(FunctionCall? call)
    {
        if (Halted is not { } reason) return false;
        Interlocked.Increment(ref _refused);
        if (call is null) return true;
        Endpoint.Send(CausalNodes.Client, new FunctionFailedMsg(call.RunId, call.Function, call.Session, reason, Record: null));
        var workflow = workflows.Get(call.Workflow);
        SkipChildren(call.RunId, workflow, workflow.Functions[call.Function], call.Placement);
        return true;
    }

    private Endpoint Endpoint => _endpoint ?? throw new InvalidOperationException($"server {server.Id} is not registered on a transport");

    public void Receive(Message message)
    {
        switch (message)
        {
            case CausalHaltMsg halt:
                Halt(halt.Reason);
                break;
            case FunctionHopMsg hop:
                Arrived(hop.Call.RunId, hop.Call.Workflow, hop.Call.Function, hop.Call.Placement, hop.Parent, hop.Call);
                break;
            case FunctionSkippedMsg skipped:
                Arrived(skipped.RunId, skipped.Workflow, skipped.Function, skipped.Placement, skipped.Parent, null);
                break;
            case StartTransactionMsg start:
                StartTransaction(start);
                break;
            case CommitMsg commit:
                if (RefusedBecauseHalted(null)) break;
                Commit(commit);
                break;
            default:
                if (options.MessageServiceTime > TimeSpan.Zero) cpu.Serve(options.MessageServiceTime, () => ReceiveRing(message));
                else ReceiveRing(message);
                break;
        }
    }

    private void ReceiveRing(Message message)
    {
        if (!RefusedBecauseHalted(null)) server.ReceiveRing(message);
    }

    /// <summary>
    /// The snapshot is taken on arrival, so every root reads the same one: the first root runs here, the others
    /// are sent on with the session as it was before the first root ran.
    /// </summary>
    private void StartTransaction(StartTransactionMsg start)
    {
        if (start.OtherRoots.Length != start.OtherServers.Length)
            throw new InvalidOperationException($"server {server.Id}: run {start.First.RunId} starts with {start.OtherRoots.Length} other roots but names {start.OtherServers.Length} servers for them");
        var first = start.First;
        if (!Deployed(first.RunId, first.Workflow, first.Function, first.Placement, first, out _)) return;
        var session = first.Session.ToSession();
        session.Snapshot = server.TakeSnapshot(session, start.SnapshotHint);
        // Taken before the first root runs (it may run at once) and changes its session; one immutable copy serves every other root.
        var others = start.OtherRoots.Length > 0 ? SessionData.Of(session) : null;
        Serve(first, session);
        for (int r = 0; r < start.OtherRoots.Length; r++)
            Endpoint.Send(NodeId.CacheServer(start.OtherServers[r]), new FunctionHopMsg(first with { Function = start.OtherRoots[r], Session = others! }));
    }

    /// <summary>Every function of the transaction finished: its buffered writes go on the ring with this server as their head.</summary>
    private void Commit(CommitMsg commit)
    {
        var final = commit.Final.ToSession();
        server.Commit(final);
        Endpoint.Send(CausalNodes.Client, new TransactionCommittedMsg(commit.RunId, SessionData.Of(final)));
        (server as CacheServer)?.EvictIfFull();
    }
}
