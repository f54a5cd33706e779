using Leasehold.Runtime.Causal.Persistence;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Causal.Workflows;

/// <summary>
/// Runs causal workflows over a ring of cache servers (causal.md): admission, placement, the session's hops
/// from function to function, fan-in, a transaction's snapshot, commit and retries, and the result. A
/// workflow's functions are placed on servers (at random unless the caller says), so it roams; its session
/// travels with it — one message hop whenever the next function runs elsewhere — and merges at fan-in. Each
/// function body runs on its server's mailbox, so its reads see one C-cache state (a function that only
/// reads is a read-only transaction). The servers, ring and store are wired by CausalCluster.
/// </summary>
internal sealed partial class CausalWorkflowEngine
{
    private readonly CausalWorkflowTable _workflows = new();
    private readonly IReadOnlyList<ICacheServer> _servers;
    private readonly IReadOnlyList<CacheServer> _cacheServers;
    private readonly IReadOnlyList<ServerCpu> _cpus;
    private readonly Network _network;
    private readonly Mailbox _client;
    private readonly Random _placement;
    private long _nextWorkflow;
    private readonly CausalStore? _store;
    private readonly ClusterIdentity _identity;

    /// <param name="cacheServers">the CausalMesh servers among <paramref name="servers"/> (empty under another protocol): they serve transactions once one is registered.</param>
    /// <param name="client">the mailbox results are delivered on.</param>
    public CausalWorkflowEngine(CausalOptions options, IScheduler scheduler, Network network, Mailbox client, IReadOnlyList<ICacheServer> servers,
        IReadOnlyList<CacheServer> cacheServers, IReadOnlyList<ServerCpu> cpus, CausalStore? store, ClusterIdentity identity)
    {
        _identity = identity;
        Options = options;
        Scheduler = scheduler;
        _network = network;
        _client = client;
        _servers = servers;
        _cacheServers = cacheServers;
        _cpus = cpus;
        _store = store;
        _placement = new Random(options.Seed);
    }

    public CausalOptions Options { get; }
    public IScheduler Scheduler { get; }

    /// <summary>Called once per function execution when set (the history recorder); on the server's mailbox.</summary>
    public Action<CausalFunctionRecord>? OnFunction { get; set; }

    public void Register(WorkflowDefinition workflow)
    {
        CausalWorkflowTable.RequireCausal(workflow);
        if (workflow.Consistency == Consistency.TransactionalCausal)
            foreach (var server in _cacheServers) server.ServeTransactions();
        if (workflow.MayAbortCount > 0)
            throw new WorkflowDefinitionException($"workflow '{workflow.Name}' declares functions that may abort; causal workflows never abort (their writes are visible at once)");
        _workflows.Add(workflow);
    }

    /// <summary>Runs a workflow; the callback gets its result (with the session token for the next one). Thread-safe.</summary>
    public void Submit(string workflow, Args args, Action<CausalResult> onDone, CausalInvocation? invocation = null)
    {
        invocation ??= new CausalInvocation();
        if (!TryTrack(ref onDone, invocation.Token)) return;
        if (!_workflows.TryAdmit(workflow, invocation, _identity, _servers.Count, _placement, onDone, out var definition, out var placement)) return;
        Start(new WorkflowRun(definition, args, Interlocked.Increment(ref _nextWorkflow), placement, invocation, onDone, aborts: 0));
    }

    /// <summary>
    /// Starts an attempt. A read-write transaction first takes its snapshot on its first root function's
    /// server, so that every root — and every later function — reads the same one.
    /// </summary>
    private void Start(WorkflowRun run)
    {
        var start = run.Invocation.Token?.Open() ?? new CausalSession();
        var roots = run.Workflow.Functions.Where(f => f.Parents.Length == 0).Select(f => f.Index).ToArray();
        if (!run.Transactional)
        {
            foreach (int f in roots) Hop(_client, run, f, start.Clone());
            return;
        }
        int first = roots[0];
        var server = _servers[run.Placement[first]];
        _network.Send(_client, server.Mailbox, () =>
        {
            start.Snapshot = server.TakeSnapshot(start, run.SnapshotHint);
            var cpu = _cpus[run.Placement[first]];
            var session = start.Clone();
            cpu.Serve(Options.FunctionServiceTime, () => RunFunction(run, first, server, session));
            foreach (int f in roots)
                if (f != first) Hop(server.Mailbox, run, f, start.Clone());
        });
    }

    public Task<CausalResult> InvokeAsync(string workflow, Args args, CausalInvocation? invocation = null)
    {
        var done = new TaskCompletionSource<CausalResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        Submit(workflow, args, r => done.TrySetResult(r), invocation);
        return done.Task;
    }

    /// <summary>The session moves to the function's server (a message hop unless it is already there), and the body runs there.</summary>
    private void Hop(Mailbox from, WorkflowRun run, int function, CausalSession session)
    {
        int at = run.Placement[function];
        var server = _servers[at];
        var cpu = _cpus[at];
        var cost = Options.FunctionServiceTime;
        _network.Send(from, server.Mailbox, () => cpu.Serve(cost, () => RunFunction(run, function, server, session)));
    }

    private void RunFunction(WorkflowRun run, int index, ICacheServer server, CausalSession session, List<StateKey>? missed = null)
    {
        if (run.IsFinished) return; // another branch failed: the workflow ended
        var function = run.Workflow.Functions[index];
        // With a store, the declared keys (and any an earlier attempt missed) are loaded before the body runs.
        bool stored = server is CacheServer { HasStore: true };
        if (stored && !((CacheServer)server).AllLoaded(FunctionKeys.ToLoad(function, run.Args, missed), () => RunFunction(run, index, server, session, missed),
                unreadable => Fail(run, session, $"function '{function.Name}' could not load its state: {unreadable}", server))) return;
        session.IntegratedAt = -1; // it has just arrived here
        if (server is CacheServer mesh) mesh.Prune(session);
        bool defer = stored && FunctionKeys.ReadsAnyKey(function);
        var attempt = defer ? session.Clone() : session; // a discarded attempt leaves the session as it was
        var context = new CausalContext(run.Workflow, function, run.Args, run.Id, Scheduler.Time.GetUtcNow(), server, attempt, run.Outputs, OnFunction is not null, defer);
        string? failure = null;
        try
        {
            run.Outputs[index] = function.Body(context);
        }
        catch (SnapshotUnavailableException) when (run.Transactional && context.Violation is null)
        {
            Abort(run, server);
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
            RunFunction(run, index, server, session, [.. missed ?? [], miss]); // loads it, then runs the body again
            return;
        }
        context.ApplyDeferredWrites();
        session = attempt;
        failure ??= context.Violation;
        if (OnFunction is not null) run.Record(new CausalFunctionRecord(run.Invocation.Process, run.Invocation.Seq, run.Id, index, function.Parents, true, server.Id, context.Ops!) { Transaction = run.Transactional }, OnFunction);
        if (failure is not null)
        {
            Fail(run, session, failure, server);
            return;
        }
        var ready = run.Finished(index, session);
        foreach (var (child, merged) in ready) Hop(server.Mailbox, run, child, merged);
        if (run.AllDone(out var final))
        {
            if (run.Transactional) server.Commit(final); // on this server's mailbox: the last function's server is the writes' head
            Finish(run, final, null, final, server);
        }
        (server as CacheServer)?.EvictIfFull();
    }

    /// <summary>
    /// The workflow failed at a function. A plain causal workflow's writes so far stay visible, so the token carries
    /// them forward; a transaction's were only buffered, so nothing of it took effect and the token is the caller's.
    /// </summary>
    private void Fail(WorkflowRun run, CausalSession session, string failure, ICacheServer server)
    {
        var soFar = run.Transactional ? run.Invocation.Token?.Open() ?? new CausalSession() : run.SessionSoFar(session);
        Finish(run, null, new CausalResult(WorkflowStatus.Failed, run.Id, failure, run.Outputs, new SessionToken(soFar, _identity), run.Aborts) { Workflow = run.Workflow }, soFar, server);
    }

    /// <summary>Synchronous durability: the result waits until every write the workflow made is durable (the body itself cannot block).</summary>
    private void Finish(WorkflowRun run, CausalSession? final, CausalResult? failed, CausalSession written, ICacheServer server)
    {
        if (Options.Durability == CausalDurability.Synchronous)
            _store!.WhenDurable(written.Written, () => run.Finish(final, failed, _identity, _network, server.Mailbox, _client, OnFunction));
        else run.Finish(final, failed, _identity, _network, server.Mailbox, _client, OnFunction);
    }

    /// <summary>A transaction's snapshot is gone on this server: the attempt ends with no effect, and the platform retries it.</summary>
    private void Abort(WorkflowRun run, ICacheServer server)
    {
        if (!run.TryEnd()) return;
        int aborts = run.Aborts + 1;
        if (aborts >= Options.TransactionAttempts)
        {
            var result = new CausalResult(WorkflowStatus.Failed, run.Id, $"the transaction aborted {aborts} times: its snapshot's versions were gone each time", run.Outputs,
                run.Invocation.Token ?? new SessionToken(new CausalSession(), _identity), aborts) { Workflow = run.Workflow };
            _network.Send(server.Mailbox, _client, () => run.OnDone(result));
            return;
        }
        var retry = new WorkflowRun(run.Workflow, run.Args, Interlocked.Increment(ref _nextWorkflow), run.Placement, run.Invocation, run.OnDone, aborts)
        {
            SnapshotHint = run.SnapshotHint is { } before && server.SnapshotHint() is { } here ? before.Join(here) : server.SnapshotHint() ?? run.SnapshotHint,
        };
        _network.Send(server.Mailbox, _client, () => Start(retry));
    }

    /// <summary>One attempt of a workflow in flight: its DAG's progress (<see cref="WorkflowAttempt{TState}"/>) with the sessions waiting at fan-ins, and a transaction's held records.</summary>
    private sealed class WorkflowRun(WorkflowDefinition workflow, Args args, long id, int[] placement, CausalInvocation invocation, Action<CausalResult> onDone, int aborts)
        : WorkflowAttempt<CausalSession>(workflow, args, id, placement, invocation, onDone, aborts)
    {
        private List<CausalFunctionRecord>? _records;

        public bool Transactional => Workflow.Consistency == Consistency.TransactionalCausal;
        /// <summary>Joined into the snapshot of a retry: the clocks visible where earlier attempts aborted.</summary>
        public VectorClock? SnapshotHint { get; init; }

        /// <summary>Function <paramref name="index"/> finished with <paramref name="session"/>: the children whose parents are all done, each with its parents' merged session.</summary>
        public List<(int Child, CausalSession Session)> Finished(int index, CausalSession session) => Finished(index, session, Join);

        private static CausalSession Join(IReadOnlyList<CausalSession> parents) => parents.Count == 1 ? parents[0].Clone() : CausalSession.Merge(parents);

        /// <summary>What the workflow has seen and written so far: every finished function's session and <paramref name="current"/>.</summary>
        public CausalSession SessionSoFar(CausalSession current)
        {
            lock (this) return CausalSession.Merge(FinishedStates().Append(current));
        }

        /// <summary>True once every function finished; the final session merges them all (what the caller's next workflow must see).</summary>
        public bool AllDone(out CausalSession final) => AllDone(CausalSession.Merge, out final);

        /// <summary>
        /// A function's history record. A transaction's are held until it ends: a committed or failed one
        /// records them all (failed: not ok, so none of its writes may be seen), an aborted attempt none —
        /// it had no effect, and its retry takes its place in the caller's sequence.
        /// </summary>
        public void Record(CausalFunctionRecord record, Action<CausalFunctionRecord> sink)
        {
            if (!Transactional) sink(record);
            else lock (this) (_records ??= []).Add(record);
        }

        public void Finish(CausalSession? CausalSessionOrNull, CausalResult? failed, ClusterIdentity cluster, Network network, Mailbox from, Mailbox client, Action<CausalFunctionRecord>? sink)
        {
            if (!TryEnd()) return;
            if (_records is not null && sink is not null)
                foreach (var r in _records) sink(failed is null ? r : r with { Ok = false });
            var result = failed ?? new CausalResult(WorkflowStatus.Committed, Id, null, Outputs, new SessionToken(CausalSessionOrNull!, cluster), Aborts) { Workflow = Workflow };
            network.Send(from, client, () => OnDone(result));
        }
    }
}
