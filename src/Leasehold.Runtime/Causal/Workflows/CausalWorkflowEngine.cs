using Leasehold.Runtime.Causal.Messages;
using Leasehold.Runtime.Causal.Persistence;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Causal.Workflows;

/// <summary>
/// The client node of a causal cluster (causal.md): admission, placement, and every attempt's outcome. A
/// workflow's functions are placed on servers (at random unless the caller says), so it roams; its session
/// travels with it, one message hop whenever the next function runs elsewhere: the client sends the roots
/// (<see cref="FunctionHopMsg"/>), each server sends a finished function's session straight on to its
/// children's servers, where a fan-in joins them, and reports its output and session to the client. The client
/// owns each attempt (<see cref="WorkflowRun"/>) and touches it on its own mailbox only: it collects outputs,
/// commits a transaction that has no single last function, retries an aborted one and builds the result. A
/// read-write transaction starts at its first root's server, which takes the snapshot every function reads
/// (<see cref="StartTransactionMsg"/>); its one sink, if it has one, commits it where it runs. Parents that
/// hop straight on cost no more hops than one object shared by the servers did; a hop through the client per
/// edge would add one (docs/causal.md). The servers and the ring are wired by CausalCluster.
/// </summary>
internal sealed partial class CausalWorkflowEngine : IMessageSink
{
    private readonly CausalWorkflowTable _workflows;
    private readonly int _servers;
    private readonly Endpoint _endpoint;
    private readonly Mailbox _client;
    private readonly Random _placement;
    private long _nextWorkflow;
    private readonly CausalStore? _store;
    private readonly ClusterIdentity _identity;
    // The attempts in flight, by run id: only ever touched on the client's mailbox.
    private readonly Dictionary<long, WorkflowRun> _runs = [];
    private readonly Action<object> _start;

    /// <param name="workflows">the registry the servers run functions from (deployed code, the same on every node).</param>
    /// <param name="client">the client node's mailbox: results are delivered on it.</param>
    public CausalWorkflowEngine(CausalOptions options, IScheduler scheduler, ITransport transport, Mailbox client, int servers,
        CausalWorkflowTable workflows, CausalStore? store, ClusterIdentity identity)
    {
        _identity = identity;
        Options = options;
        Scheduler = scheduler;
        _client = client;
        _servers = servers;
        _workflows = workflows;
        _store = store;
        _placement = new Random(options.Seed);
        _start = run => Start((WorkflowRun)run);
        _endpoint = transport.Register(CausalNodes.Client, CausalNodes.Incarnation, client, this);
    }

    public CausalOptions Options { get; }
    public IScheduler Scheduler { get; }

    /// <summary>Called once per function execution when set (the history recorder); on the client's mailbox.</summary>
    public Action<CausalFunctionRecord>? OnFunction { get; set; }

    public void Register(WorkflowDefinition workflow)
    {
        CausalWorkflowTable.RequireDeployable(workflow);
        _workflows.Add(workflow);
    }

    /// <summary>Runs a workflow; the callback gets its result (with the session token for the next one). Thread-safe.</summary>
    public void Submit(string workflow, Args args, Action<CausalResult> onDone, CausalInvocation? invocation = null)
    {
        invocation ??= new CausalInvocation();
        if (!TryTrack(ref onDone, invocation.Token) || RejectedAsHalted(onDone, invocation, null)) return;
        if (!_workflows.TryAdmit(workflow, invocation, _identity, _servers, _placement, onDone, out var definition, out var placement)) return;
        var run = new WorkflowRun(definition, args, Interlocked.Increment(ref _nextWorkflow), placement, invocation, onDone, aborts: 0);
        Scheduler.Post(_client, _start, run); // the attempt is the client's: it starts on its mailbox
    }

    public Task<CausalResult> InvokeAsync(string workflow, Args args, CausalInvocation? invocation = null)
    {
        var done = new TaskCompletionSource<CausalResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        Submit(workflow, args, r => done.TrySetResult(r), invocation);
        return done.Task;
    }

    /// <summary>Starts an attempt (on the client's mailbox): its roots go to their servers, a transaction's through its first root's.</summary>
    private void Start(WorkflowRun run)
    {
        if (RejectedAsHalted(run.OnDone, run.Invocation, run.Workflow)) return; // submitted as the cluster stopped: it never ran
        _runs.Add(run.Id, run);
        var start = run.Invocation.Token?.Open() ?? new CausalSession();
        var roots = run.Workflow.Functions.Where(f => f.Parents.Length == 0).Select(f => f.Index).ToArray();
        if (!run.Transactional)
        {
            for (int r = 0; r < roots.Length; r++)
                _endpoint.Send(NodeId.CacheServer(run.Placement[roots[r]]), new FunctionHopMsg(Call(run, roots[r], r == roots.Length - 1 ? start : start.Clone())));
            return;
        }
        int[] others = roots[1..];
        _endpoint.Send(NodeId.CacheServer(run.Placement[roots[0]]),
            new StartTransactionMsg(Call(run, roots[0], start), others, [.. others.Select(f => run.Placement[f])], run.SnapshotHint));
    }

    private FunctionCall Call(WorkflowRun run, int function, CausalSession session) =>
        new(run.Id, run.Workflow.Name, function, run.Args, run.Placement, SessionData.Of(session), new byte[]?[run.Workflow.Functions.Count], run.Invocation.Process, run.Invocation.Seq,
            OnFunction is not null);

    /// <summary>The client's one dispatch point, on its mailbox.</summary>
    public void Receive(Message message)
    {
        switch (message)
        {
            case FunctionDoneMsg done: OnFunctionDone(done); break;
            case FunctionFailedMsg failed: OnFunctionFailed(failed); break;
            case AttemptAbortedMsg aborted: OnAttemptAborted(aborted); break;
            case TransactionCommittedMsg committed:
                if (_runs.TryGetValue(committed.RunId, out var run))
                {
                    var final = committed.Final.ToSession();
                    Finish(run, final, null, final);
                }
                break;
            case CausalHaltMsg halt: Halt(halt.Reason); break;
            default: throw new InvalidOperationException($"the causal client got {message.GetType().Name} from {message.From}, which it does not handle");
        }
    }

    private void OnFunctionDone(FunctionDoneMsg done)
    {
        if (Recorded(done.RunId, done.Record) is not { } run) return; // the attempt already ended (another branch failed)
        // The same array may still be on its way to the function's children (in-process, by reference): the caller gets its own.
        run.Outputs[done.Function] = (byte[]?)done.Output?.Clone();
        var session = done.Session.ToSession();
        run.Done(done.Function, session);
        // The sink's report can overtake another function's (they cross different links): the result waits for all.
        if (done.Committed) run.CommittedSession = session;
        if (!run.AllDone(out var final)) return;
        if (run.CommittedSession is { } committed)
        {
            Finish(run, committed, null, committed);
            return;
        }
        // A transaction with several sinks: the server of the function that finished last is its writes' head.
        if (run.Transactional) _endpoint.Send(done.From, new CommitMsg(run.Id, SessionData.Of(final)));
        else Finish(run, final, null, final);
    }

    /// <summary>
    /// The workflow failed at a function. A plain causal workflow's writes so far stay visible, so the token carries
    /// them forward; a transaction's were only buffered, so nothing of it took effect and the token is the caller's.
    /// </summary>
    private void OnFunctionFailed(FunctionFailedMsg failed)
    {
        if (Recorded(failed.RunId, failed.Record) is not { } run) return;
        var soFar = run.Transactional ? run.Invocation.Token?.Open() ?? new CausalSession() : run.SessionSoFar(failed.Session.ToSession());
        Finish(run, null, new CausalResult(WorkflowStatus.Failed, run.Id, failed.Reason, run.Outputs, new SessionToken(soFar, _identity), run.Aborts) { Workflow = run.Workflow }, soFar);
    }

    /// <summary>
    /// Reports a function's record (a transaction's is held until it ends) and finds its attempt; null once it
    /// ended. A plain causal function's writes are visible however its attempt ended, so its record always counts.
    /// </summary>
    private WorkflowRun? Recorded(long runId, FunctionRecordData? record)
    {
        _runs.TryGetValue(runId, out var run);
        if (record is not null && OnFunction is { } sink)
        {
            if (!record.Transaction) sink(record.ToRecord());
            else run?.Hold(record.ToRecord());
        }
        return run;
    }

    /// <summary>Ends the attempt, once: it leaves the client's table.</summary>
    private bool End(WorkflowRun run) => _runs.Remove(run.Id) && run.TryEnd();

    /// <summary>Synchronous durability: the result waits until every write the workflow made is durable (the body itself cannot block).</summary>
    private void Finish(WorkflowRun run, CausalSession? final, CausalResult? failed, CausalSession written)
    {
        if (!End(run)) return;
        if (Options.Durability == CausalDurability.Synchronous)
            _store!.WhenDurable(written.Written, () => _client.Post(() => Deliver(run, final, failed)));
        else Deliver(run, final, failed);
    }

    private void Deliver(WorkflowRun run, CausalSession? final, CausalResult? failed)
    {
        if (OnFunction is { } sink)
            foreach (var record in run.HeldRecords(committed: failed is null)) sink(record);
        run.OnDone(failed ?? new CausalResult(WorkflowStatus.Committed, run.Id, null, run.Outputs, new SessionToken(final!, _identity), run.Aborts) { Workflow = run.Workflow });
    }

    /// <summary>A transaction's snapshot is gone on a server: the attempt ends with no effect, and the platform retries it.</summary>
    private void OnAttemptAborted(AttemptAbortedMsg aborted)
    {
        if (!_runs.TryGetValue(aborted.RunId, out var run) || !End(run)) return;
        int aborts = run.Aborts + 1;
        if (aborts >= Options.TransactionAttempts)
        {
            run.OnDone(new CausalResult(WorkflowStatus.Failed, run.Id, $"the transaction aborted {aborts} times: its snapshot's versions were gone each time", run.Outputs,
                run.Invocation.Token ?? new SessionToken(new CausalSession(), _identity), aborts) { Workflow = run.Workflow });
            return;
        }
        var here = aborted.SnapshotHint;
        Start(new WorkflowRun(run.Workflow, run.Args, Interlocked.Increment(ref _nextWorkflow), run.Placement, run.Invocation, run.OnDone, aborts)
        {
            SnapshotHint = run.SnapshotHint is { } before && here is not null ? before.Join(here) : here ?? run.SnapshotHint,
        });
    }
}
