using Leasehold.Baselines.Causal.Versioned;
using Leasehold.Runtime.Causal.Workflows;
using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Baselines.Causal;

/// <summary>
/// What the three baselines (§8) share: N caches, each co-located with a worker, over the versioned store;
/// placement, hops and fan-in as CausalCluster does them (the same Network, the same per-hop latency, the
/// same modelled service times); each workflow one transaction whose writes are buffered and committed at
/// the end of the DAG; aborted attempts retried; history records reported when an attempt is decided. A
/// protocol says how an attempt begins, how a function's versions are prepared before its body runs (the
/// body is synchronous, so every round trip happens here), and how the write set commits.
/// </summary>
internal abstract class BaselineRuntime : ICausalRuntime
{
    private readonly CausalWorkflowTable _workflows = new();
    private readonly Random _placement;
    private long _nextAttempt;

    protected BaselineRuntime(CausalOptions options, IScheduler scheduler, Func<StateKey, byte[]?>? initial)
    {
        options.Validate();
        Options = options;
        Scheduler = scheduler;
        Initial = initial ?? (static _ => null);
        Network = new Network(scheduler, options.LinkLatency);
        Net = new BaselineNet(Network, options.MessageServiceTime);
        Client = scheduler.CreateMailbox("causal-clients");
        _placement = new Random(options.Seed);
        Identity = new ClusterIdentity(ClusterIdentity.Draw(options.Seed, scheduler.Time), options.Servers);
        Store = new VersionedStore(options, scheduler, Net, Initial);
    }

    public CausalOptions Options { get; }
    public IScheduler Scheduler { get; }
    /// <summary>Which cluster this is (state in memory only: a new id each start); it admits only the session tokens it issued.</summary>
    public ClusterIdentity Identity { get; }
    protected Func<StateKey, byte[]?> Initial { get; }
    protected Network Network { get; }
    protected BaselineNet Net { get; }
    protected Mailbox Client { get; }
    internal VersionedStore Store { get; }
    /// <summary>The caches' nodes, one per server (set by the protocol's constructor).</summary>
    protected abstract IReadOnlyList<BaselineNode> Caches { get; }

    public Action<CausalFunctionRecord>? OnFunction { get; set; }
    public long Messages => Network.Messages;
    public long RingMessages => Net.ProtocolMessages;
    /// <summary>The caches' modelled busy time, then the store partitions'.</summary>
    public IReadOnlyList<TimeSpan> ServerBusy => [.. Caches.Select(c => c.Cpu.Busy), .. Store.Partitions.Select(p => p.Node.Cpu.Busy)];

    public void Register(WorkflowDefinition workflow)
    {
        // Every baseline runs a workflow as a transaction (one snapshot, writes committed together): both causal levels are welcome.
        CausalWorkflowTable.RequireCausal(workflow);
        if (workflow.MayAbortCount > 0)
            throw new WorkflowDefinitionException($"workflow '{workflow.Name}' declares functions that may abort; causal workflows do not abort by themselves");
        foreach (var f in workflow.Functions)
            foreach (var a in f.Accesses)
                if (a.AnyKey)
                    throw new WorkflowDefinitionException(
                        $"workflow '{workflow.Name}': function '{f.Name}' reads any key of '{a.Table}' (ReadsAny), but the {Name} baseline prepares every key a function reads before its body runs, so it must know them all from the request; declare the keys (Reads with a key selector) or run it under causalmesh");
        _workflows.Add(workflow);
    }

    /// <summary>The protocol's name as the bench spells it.</summary>
    protected abstract string Name { get; }

    public void Submit(string workflow, Args args, Action<CausalResult> onDone, CausalInvocation? invocation = null)
    {
        invocation ??= new CausalInvocation();
        if (!_workflows.TryAdmit(workflow, invocation, Identity, Caches.Count, _placement, onDone, out var definition, out var placement)) return;
        Begin(NewAttempt(definition, args, placement, invocation, onDone, aborts: 0, invocation.Token?.Open().Baseline));
    }

    public Task<CausalResult> InvokeAsync(string workflow, Args args, CausalInvocation? invocation = null)
    {
        var done = new TaskCompletionSource<CausalResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        Submit(workflow, args, r => done.TrySetResult(r), invocation);
        return done.Task;
    }

    private Attempt NewAttempt(WorkflowDefinition workflow, Args args, int[] placement, CausalInvocation invocation, Action<CausalResult> onDone, int aborts, object? session) =>
        new(workflow, args, Interlocked.Increment(ref _nextAttempt), placement, invocation, onDone, aborts, session);

    /// <summary>Starts an attempt (called from the client's side, or from the mailbox that aborted the previous one).</summary>
    protected abstract void Begin(Attempt attempt);

    /// <summary>The flow an attempt's root functions start with (FaaSTCC: the session's interval).</summary>
    protected virtual Flow StartFlow(Attempt attempt) => new();

    /// <summary>Sends every root function to its cache from <paramref name="from"/>.</summary>
    protected void StartRoots(Mailbox from, Attempt attempt)
    {
        var start = StartFlow(attempt);
        foreach (var f in attempt.Workflow.Functions)
            if (f.Parents.Length == 0) Hop(from, attempt, f.Index, start.Clone());
    }

    /// <summary>The flow moves to the function's cache (a message hop unless it is there already) and is served there as a function.</summary>
    private void Hop(Mailbox from, Attempt attempt, int function, Flow flow)
    {
        var cache = Caches[attempt.Placement[function]];
        var cost = Options.FunctionServiceTime;
        Network.Send(from, cache.Mailbox, () => cache.Cpu.Serve(cost, () => Arrive(attempt, function, flow)));
    }

    private void Arrive(Attempt attempt, int function, Flow flow)
    {
        if (attempt.IsFinished) return;
        int server = attempt.Placement[function];
        Prepare(attempt, function, flow, view => RunBody(attempt, function, flow, view), reason => Abort(attempt, server, reason));
    }

    /// <summary>
    /// On the function's cache: find a version of every key the function declares (flow.Writes aside) that
    /// is consistent with the flow, fetching what is missing, then call <paramref name="run"/> with them on
    /// this mailbox — or <paramref name="abort"/> with why no consistent snapshot can be had.
    /// </summary>
    protected abstract void Prepare(Attempt attempt, int function, Flow flow, Action<IReadOnlyDictionary<StateKey, StoredVersion>> run, Action<string> abort);

    /// <summary>
    /// On the cache of the last function: commit the write set (atomically visible), then call
    /// <paramref name="committed"/> on this mailbox with the session state for the caller's token.
    /// </summary>
    protected abstract void Commit(Attempt attempt, int server, Flow final, Action<object?> committed);

    /// <summary>Releases what the attempt holds on the caches (pins); called once it is decided, from the mailbox that decided it.</summary>
    protected virtual void Cleanup(Attempt attempt, int server) { }

    private void RunBody(Attempt attempt, int index, Flow flow, IReadOnlyDictionary<StateKey, StoredVersion> view)
    {
        if (attempt.IsFinished) return;
        var function = attempt.Workflow.Functions[index];
        int server = attempt.Placement[index];
        var context = new BaselineContext(attempt.Workflow, function, attempt.Args, attempt.Id, Scheduler.Time.GetUtcNow(), view, flow, server, attempt.Outputs, OnFunction is not null);
        string? failure = null;
        try
        {
            attempt.Outputs[index] = function.Body(context);
        }
        catch (Exception e)
        {
            failure = context.Violation ?? $"function '{function.Name}' threw {e.GetType().Name}: {e.Message}";
        }
        finally
        {
            context.Close();
        }
        failure ??= context.Violation;
        if (context.Ops is { } ops) attempt.Record(new CausalFunctionRecord(attempt.Invocation.Process, attempt.Invocation.Seq, attempt.Id, index, function.Parents, true, server, ops)
        {
            Transaction = attempt.Workflow.Consistency == Consistency.TransactionalCausal,
        });
        if (failure is not null)
        {
            Decide(attempt, server, new CausalResult(WorkflowStatus.Failed, attempt.Id, failure, attempt.Outputs, CallersToken(attempt), attempt.Aborts) { Workflow = attempt.Workflow }, committed: false);
            return;
        }
        var cache = Caches[server];
        foreach (var (child, childFlow, conflict) in attempt.Finished(index, flow))
        {
            if (conflict is not null)
            {
                Abort(attempt, server, conflict);
                return;
            }
            Hop(cache.Mailbox, attempt, child, childFlow);
        }
        if (!attempt.AllDone(out var final, out var finalConflict)) return;
        if (finalConflict is not null)
        {
            Abort(attempt, server, finalConflict);
            return;
        }
        Commit(attempt, server, final, session =>
        {
            var token = new SessionToken(new CausalSession { Baseline = session }, Identity);
            Decide(attempt, server, new CausalResult(WorkflowStatus.Committed, attempt.Id, null, attempt.Outputs, token, attempt.Aborts) { Workflow = attempt.Workflow }, committed: true);
        });
    }

    /// <summary>A failed workflow took no effect (each is a transaction): the caller's session goes on as it was; a new one if it had none.</summary>
    private SessionToken CallersToken(Attempt attempt) => attempt.Invocation.Token ?? new SessionToken(new CausalSession(), Identity);

    /// <summary>No consistent snapshot for this attempt: it is recorded as aborted, and the workflow starts again (new placement draws nothing: the same servers) until it runs out of attempts.</summary>
    protected void Abort(Attempt attempt, int server, string reason)
    {
        var result = new CausalResult(WorkflowStatus.Failed, attempt.Id, $"aborted {attempt.Aborts + 1} times (last: {reason})", attempt.Outputs, CallersToken(attempt), attempt.Aborts + 1) { Workflow = attempt.Workflow };
        if (attempt.Aborts + 1 >= Options.TransactionAttempts)
        {
            Decide(attempt, server, result, committed: false);
            return;
        }
        if (!attempt.TryEnd()) return;
        Report(attempt, committed: false);
        Cleanup(attempt, server);
        Begin(NewAttempt(attempt.Workflow, attempt.Args, attempt.Placement, attempt.Invocation, attempt.OnDone, attempt.Aborts + 1, attempt.Session));
    }

    private void Decide(Attempt attempt, int server, CausalResult result, bool committed)
    {
        if (!attempt.TryEnd()) return;
        Report(attempt, committed);
        Cleanup(attempt, server);
        var onDone = attempt.OnDone;
        Network.Send(Caches[server].Mailbox, Client, () => onDone(result));
    }

    /// <summary>
    /// Hands the attempt's records to the recorder. A committed attempt's go as they are. An attempt that
    /// did not commit made nothing visible: its records are marked failed (so the checker treats the
    /// workflow as aborted), put under a process of their own (the caller's process keeps one workflow per
    /// seq, the one that commits), and stripped of their writes (the retry writes the same unique values).
    /// </summary>
    private void Report(Attempt attempt, bool committed)
    {
        var sink = OnFunction;
        if (sink is null) return;
        List<CausalFunctionRecord> records;
        lock (attempt) records = [.. attempt.Records.OrderBy(r => r.Function)];
        foreach (var r in records)
            sink(committed ? r : r with { Process = -attempt.Id, Seq = 0, Ok = false, Ops = [.. r.Ops.Where(o => !o.IsWrite)] });
    }
}
