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

    public void Attach(Endpoint endpoint) => _endpoint = endpoint;

    private Endpoint Endpoint => _endpoint ?? throw new InvalidOperationException($"server {server.Id} is not registered on a transport");

    public void Receive(Message message)
    {
        switch (message)
        {
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
                Commit(commit);
                break;
            default:
                if (options.MessageServiceTime > TimeSpan.Zero) cpu.Serve(options.MessageServiceTime, () => server.ReceiveRing(message));
                else server.ReceiveRing(message);
                break;
        }
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
        Endpoint.Send(CausalWorkflowEngine.ClientNode, new TransactionCommittedMsg(commit.RunId, SessionData.Of(final)));
        (server as CacheServer)?.EvictIfFull();
    }
}
