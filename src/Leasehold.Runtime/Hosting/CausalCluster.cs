using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Persistence;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Hosting;

/// <summary>
/// N cache servers in a ring, each co-located with a worker, running causal workflows (causal.md). A
/// workflow's functions are placed on servers (at random unless the caller says), so it roams; its
/// session travels with it — one message hop whenever the next function runs elsewhere — and merges at
/// fan-in. Each function body runs on its server's mailbox, so its reads see one C-cache state (a
/// function that only reads is a read-only transaction). The same code runs on real threads and in the
/// deterministic mode.
/// </summary>
public sealed class CausalCluster : ICausalRuntime, IAsyncDisposable
{
    private readonly CausalWorkflowTable _workflows = new();
    private readonly ICacheServer[] _servers;
    private readonly Network _network;
    private readonly Mailbox _client;
    private readonly Random _placement;
    private readonly List<RingLink> _links = [];
    private readonly ServerCpu[] _cpus;
    private long _nextWorkflow;
    private readonly CausalStore? _store;
    private readonly ClusterIdentity _identity;

    /// <param name="store">The store to persist into and load misses from (§6; <see cref="CausalStore.OpenAsync"/>); needs a durability other than None.</param>
    public CausalCluster(CausalOptions options, IScheduler scheduler, Func<StateKey, byte[]?>? initial = null, CausalStore? store = null)
    {
        options.Validate();
        if ((store is null) != (options.Durability == CausalDurability.None))
            throw new ArgumentException(store is null ? $"durability {options.Durability} needs a store" : "a store needs durability write-behind or synchronous");
        _store = store;
        store?.Attach(scheduler, options);
        Options = options;
        Scheduler = scheduler;
        initial ??= static _ => null;
        _network = new Network(scheduler, options.LinkLatency);
        _client = scheduler.CreateMailbox("causal-clients");
        _placement = new Random(options.Seed);
        int n = options.Servers;
        _identity = new ClusterIdentity(store?.ClusterId ?? ClusterIdentity.Draw(options.Seed, scheduler.Time), n);
        var jitter = new Random(options.Seed ^ 0x5eed);
        _cpus = new ServerCpu[n];
        if (options.Protocol == CausalProtocol.CausalMesh)
        {
            var servers = Enumerable.Range(0, n).Select(i => new CacheServer(i, options, scheduler, initial)).ToArray();
            for (int i = 0; i < n; i++) _cpus[i] = new ServerCpu(scheduler, servers[i].Mailbox);
            for (int i = 0; i < n; i++)
            {
                var next = servers[(i + 1) % n];
                var link = NewLink(servers[i].Mailbox, next.Mailbox, jitter, _cpus[(i + 1) % n]);
                servers[i].Connect(link, next);
            }
            if (store is not null) foreach (var s in servers) s.AttachStore(store);
            CacheServers = servers;
            _servers = servers;
        }
        else
        {
            var servers = Enumerable.Range(0, n).Select(i => new EventualServer(i, n, scheduler, initial)).ToArray();
            for (int i = 0; i < n; i++) _cpus[i] = new ServerCpu(scheduler, servers[i].Mailbox);
            for (int i = 0; i < n; i++)
            {
                var next = servers[(i + 1) % n];
                servers[i].Connect(NewLink(servers[i].Mailbox, next.Mailbox, jitter, _cpus[(i + 1) % n]), next);
            }
            CacheServers = [];
            _servers = servers;
        }
    }

    private RingLink NewLink(Mailbox from, Mailbox to, Random jitter, ServerCpu cpu)
    {
        var link = new RingLink(Scheduler, _network, from, to, Options.LinkLatency, Options.RingJitter, Options.RingJitter > TimeSpan.Zero ? new Random(jitter.Next()) : null,
            cpu, Options.MessageServiceTime);
        _links.Add(link);
        return link;
    }

    public CausalOptions Options { get; }
    /// <summary>The store the cluster persists into (null: none).</summary>
    public CausalStore? Store => _store;
    /// <summary>Keys loaded from the store on a miss, and keys evicted, over all servers (read when the run is quiet).</summary>
    public long Misses => CacheServers.Sum(s => s.Misses);
    public long Evictions => CacheServers.Sum(s => s.Evictions);
    public IScheduler Scheduler { get; }
    /// <summary>Which cluster this is: it admits only session tokens it issued (or, with a store, that a cluster on the same store issued).</summary>
    public ClusterIdentity Identity => _identity;
    /// <summary>The CausalMesh servers, for the invariant checks (empty under another protocol).</summary>
    internal IReadOnlyList<CacheServer> CacheServers { get; }
    /// <summary>
    /// Every message sent: ring traffic, workflow hops, client requests and replies. A ring link without jitter
    /// sends through the network, which counts it; with jitter it schedules its own deliveries, so those are added.
    /// </summary>
    public long Messages => _network.Messages + _links.Sum(l => Options.RingJitter > TimeSpan.Zero && !l.ToSelf ? l.Sent : 0);
    public long RingMessages => _links.Sum(l => l.Sent);
    /// <summary>Modelled busy time of each server (deterministic mode with service times).</summary>
    public IReadOnlyList<TimeSpan> ServerBusy => [.. _cpus.Select(c => c.Busy)];

    /// <summary>Called once per function execution when set (the history recorder); on the server's mailbox.</summary>
    public Action<CausalFunctionRecord>? OnFunction { get; set; }

    public void Register(WorkflowDefinition workflow)
    {
        CausalWorkflowTable.RequireCausal(workflow);
        if (workflow.Consistency == Consistency.TransactionalCausal)
            foreach (var server in CacheServers) server.ServeTransactions();
        if (workflow.MayAbortCount > 0)
            throw new WorkflowDefinitionException($"workflow '{workflow.Name}' declares functions that may abort; causal workflows never abort (their writes are visible at once)");
        _workflows.Add(workflow);
    }

    /// <summary>
    /// Runs a workflow; the callback gets its result (with the session token for the next one). Thread-safe. If the
    /// callback throws, the exception is caught and counted (<see cref="CallbackFailures"/>); no other request is affected.
    /// </summary>
    public void Submit(string workflow, Args args, Action<CausalResult> onDone, CausalInvocation? invocation = null)
    {
        invocation ??= new CausalInvocation();
        if (!TryTrack(ref onDone, invocation.Token)) return;
        if (!_workflows.TryAdmit(workflow, invocation, _identity, _servers.Length, _placement, onDone, out var definition, out var placement)) return;
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

    // ---- stopping -----------------------------------------------------------------------------------

    private const string StoppedRefusal = "the cluster is stopped (StopAsync or DisposeAsync was called): it admits no new requests";
    private readonly Dictionary<long, (Action<CausalResult> Caller, SessionToken? Token)> _answerDue = [];
    private long _nextCall;
    private TaskCompletionSource? _stopped;

    /// <summary>
    /// Stops the cluster; idempotent. Workflows submitted from now on are Rejected. Those in flight finish
    /// normally; any still running after <paramref name="drainTimeout"/> (30 s unless given) is answered
    /// Unknown, since the writes of its finished functions may already be visible. Completes once every
    /// caller is answered. The store, if any, belongs to the caller, who disposes it after this.
    /// </summary>
    public Task StopAsync(TimeSpan? drainTimeout = null)
    {
        lock (_answerDue)
        {
            if (_stopped is not null) return _stopped.Task;
            _stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_answerDue.Count == 0)
            {
                _stopped.SetResult();
                return _stopped.Task;
            }
        }
        Scheduler.After(drainTimeout ?? TimeSpan.FromSeconds(30), () => _client.Post(EndInFlight));
        return _stopped.Task;
    }

    /// <summary>As <see cref="StopAsync"/> with its default drain timeout.</summary>
    public ValueTask DisposeAsync() => new(StopAsync());

    /// <summary>
    /// Refuses the request once stopping; otherwise makes <paramref name="onDone"/> answer at most once and count as in
    /// flight until then. A refusal or a stop's Unknown hands back the caller's own token, so a client that keeps
    /// <c>result.Token</c> never loses its session.
    /// </summary>
    private bool TryTrack(ref Action<CausalResult> onDone, SessionToken? callerToken)
    {
        var caller = onDone;
        long id;
        lock (_answerDue)
        {
            if (_stopped is null)
            {
                id = ++_nextCall;
                _answerDue.Add(id, (caller, callerToken));
                onDone = r =>
                {
                    if (Answered(id)) Deliver(caller, r);
                };
                return true;
            }
        }
        Deliver(caller, new CausalResult(WorkflowStatus.Rejected, -1, StoppedRefusal, [], callerToken));
        return false;
    }

    private long _callbackFailures;
    private Exception? _lastCallbackFailure;

    /// <summary>Result callbacks (Submit's onDone) that threw; the cluster caught them and went on.</summary>
    public long CallbackFailures => Interlocked.Read(ref _callbackFailures);
    /// <summary>The exception of the latest result callback that threw, or null.</summary>
    public Exception? LastCallbackFailure => Volatile.Read(ref _lastCallbackFailure);

    /// <summary>
    /// Hands a result to the caller's callback. It is user code running on the cluster's mailboxes: an exception
    /// reaching the scheduler would be taken for a broken invariant and stop the cluster, and one thrown while a
    /// stop answers its waiting callers would leave the rest unanswered and the stop never complete.
    /// </summary>
    private void Deliver(Action<CausalResult> caller, CausalResult result)
    {
        try { caller(result); }
        catch (Exception e)
        {
            Volatile.Write(ref _lastCallbackFailure, e);
            Interlocked.Increment(ref _callbackFailures);
        }
    }

    private bool Answered(long id)
    {
        lock (_answerDue)
        {
            if (!_answerDue.Remove(id)) return false; // ended by a stop already
            if (_stopped is not null && _answerDue.Count == 0) _stopped.TrySetResult();
            return true;
        }
    }

    /// <summary>The drain timeout passed: every caller still waiting is told the outcome is unknown; a late result is dropped.</summary>
    private void EndInFlight()
    {
        List<(Action<CausalResult> Caller, SessionToken? Token)> waiting;
        lock (_answerDue)
        {
            waiting = [.. _answerDue.OrderBy(e => e.Key).Select(e => e.Value)];
            _answerDue.Clear();
        }
        foreach (var (caller, token) in waiting)
            Deliver(caller, new CausalResult(WorkflowStatus.Unknown, -1, "the cluster stopped before the workflow finished: the writes of its finished functions may be visible", [], token));
        lock (_answerDue) _stopped!.TrySetResult();
    }

    /// <summary>One workflow in flight: where its functions run, what they returned, and the sessions waiting at fan-ins.</summary>
    private sealed class WorkflowRun(WorkflowDefinition workflow, Args args, long id, int[] placement, CausalInvocation invocation, Action<CausalResult> onDone, int aborts)
    {
        private readonly CausalSession?[] _sessions = new CausalSession?[workflow.Functions.Count];
        private readonly int[] _parentsLeft = workflow.Functions.Select(f => f.Parents.Length).ToArray();
        private int _left = workflow.Functions.Count;
        private bool _finished;
        private List<CausalFunctionRecord>? _records;

        public WorkflowDefinition Workflow { get; } = workflow;
        public bool Transactional => Workflow.Consistency == Consistency.TransactionalCausal;
        /// <summary>Joined into the snapshot of a retry: the clocks visible where earlier attempts aborted.</summary>
        public VectorClock? SnapshotHint { get; init; }
        /// <summary>How many attempts of this workflow aborted before this one.</summary>
        public int Aborts { get; } = aborts;
        public Action<CausalResult> OnDone { get; } = onDone;
        public Args Args { get; } = args;
        public long Id { get; } = id;
        public int[] Placement { get; } = placement;
        public CausalInvocation Invocation { get; } = invocation;
        public byte[]?[] Outputs { get; } = new byte[]?[workflow.Functions.Count];

        public bool IsFinished
        {
            get { lock (this) return _finished; }
        }

        /// <summary>Function <paramref name="index"/> finished with <paramref name="session"/>: the children whose parents are all done, each with its parents' merged session.</summary>
        public List<(int Child, CausalSession Session)> Finished(int index, CausalSession session)
        {
            var ready = new List<(int, CausalSession)>();
            lock (this)
            {
                _sessions[index] = session;
                _left--;
                foreach (int child in Workflow.Functions[index].Children)
                    if (--_parentsLeft[child] == 0)
                    {
                        var parents = Workflow.Functions[child].Parents;
                        ready.Add((child, parents.Length == 1 ? _sessions[parents[0]]!.Clone() : CausalSession.Merge(parents.Select(p => _sessions[p]!))));
                    }
            }
            return ready;
        }

        /// <summary>What the workflow has seen and written so far: every finished function's session and <paramref name="current"/>.</summary>
        public CausalSession SessionSoFar(CausalSession current)
        {
            lock (this) return CausalSession.Merge(_sessions.Where(s => s is not null).Append(current)!);
        }

        /// <summary>True once every function finished; the final session merges them all (what the caller's next workflow must see).</summary>
        public bool AllDone(out CausalSession final)
        {
            lock (this)
            {
                final = _left == 0 ? CausalSession.Merge(_sessions.Where(s => s is not null)!) : null!;
                return _left == 0;
            }
        }

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

        /// <summary>Ends the attempt unless another branch already did; true when this call ended it.</summary>
        public bool TryEnd()
        {
            lock (this)
            {
                if (_finished) return false;
                _finished = true;
                return true;
            }
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
