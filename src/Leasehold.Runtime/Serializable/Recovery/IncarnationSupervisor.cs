using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable.Driver;
using Leasehold.Runtime.Serializable.Worker;
using Leasehold.Runtime.Storage;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Runtime.Serializable.Recovery;

/// <summary>
/// Keeps one incarnation — a driver and its workers — in service (§7). It builds the first from the store:
/// the versions of batches that never committed are discarded and every batch whose input is in the batch
/// log is re-executed before the first new request runs. When a batch later cannot commit, the incarnation
/// is replaced by a fresh one with empty caches, recovered the same way; callers of the rolled-back batches
/// get the re-executed results. Requests that arrive meanwhile are parked. Only a store that keeps failing,
/// or a stop, ends it for good.
/// </summary>
internal sealed partial class IncarnationSupervisor
{
    private readonly Func<string, WorkflowDefinition?> _findWorkflow;
    private readonly ITransport _transport;
    /// <summary>The workers' processes when they are not this one's (null: the supervisor builds the workers here).</summary>
    private readonly IRemoteWorkers? _remote;
    private readonly IOneSided _memory;
    private readonly SemaphoreSlim _admission;
    private readonly Mailbox _supervisor;
    private readonly object _gate = new();
    private readonly List<Request> _parked = [];
    private Incarnation? _live;
    private Incarnation? _last;
    private Task? _started;
    private string? _halted;
    private int _failuresWithoutCommit;
    private long _committedAtLastFailure = -1;

    /// <param name="memory">the cluster's one-sided memory, for its whole life: each incarnation registers its workers' regions there.</param>
    /// <param name="admission">the cluster's admission permits: a request that holds one returns it when answered.</param>
    /// <param name="findWorkflow">the registered workflow of a name (null: none), for re-executing logged batches.</param>
    public IncarnationSupervisor(ClusterOptions options, IScheduler scheduler, IStateStore store, ClusterCounters counters, ITransport transport,
        IOneSided memory, SemaphoreSlim admission, Func<string, WorkflowDefinition?> findWorkflow, IRemoteWorkers? remote = null)
    {
        _remote = remote;
        Options = options;
        Scheduler = scheduler;
        Store = store;
        Counters = counters;
        _transport = transport;
        _memory = memory;
        _admission = admission;
        _findWorkflow = findWorkflow;
        _supervisor = scheduler.CreateMailbox("supervisor");
    }

    private ClusterOptions Options { get; }
    private IScheduler Scheduler { get; }
    private IStateStore Store { get; }
    private ClusterCounters Counters { get; }

    public long RemoteOperations => _memory.Operations;
    /// <summary>The driver in service (or the last one), for statistics and for tests that look inside.</summary>
    public ClusterDriver? Driver => _last?.Driver;
    /// <summary>The workers in service (or the last ones); empty before the first incarnation.</summary>
    public IReadOnlyList<ClusterWorker> Workers => _last?.Workers ?? [];
    /// <summary>Why it stopped for good, or null while it serves.</summary>
    public string? StopReason => Volatile.Read(ref _halted);

    /// <summary>Recovers from the store and puts the first incarnation in service; later calls return the same task.</summary>
    public Task StartAsync()
    {
        lock (_gate) return _started ??= RecoverAsync(previous: null, interruption: null);
    }

    /// <summary>To the driver in service, or parked while the cluster recovers.</summary>
    public void Route(Request request)
    {
        lock (_gate)
        {
            if (_live is { } live)
            {
                // Under the lock, so a stop that finds no request outstanding cannot retire this driver under it.
                live.Driver.Post(request);
                return;
            }
            if (_halted is null)
            {
                _parked.Add(request);
                return;
            }
        }
        Answer(request, WorkflowResult.Rejected(Stopping ? StoppedRefusal : $"the cluster stopped: {_halted}"));
    }

    private void Answer(Request request, WorkflowResult result)
    {
        if (request.HoldsPermit) _admission.Release();
        Counters.Callbacks.Deliver(request.OnDone, result);
    }

    // ---- incarnations ---------------------------------------------------------------------------------

    /// <summary>
    /// One driver and its workers, in service until a batch cannot commit. Each node fences its own store calls
    /// with its own gate, as separate processes would; the incarnation is quiet once every gate is. Its workers'
    /// regions are registered under its number, so superseding it fences their one-sided operations too.
    /// </summary>
    private sealed record Incarnation(int Number, Generation[] Gates, ClusterDriver Driver, ClusterWorker[] Workers, IOneSided Memory, long Epoch, IRemoteWorkers? Remote)
    {
        /// <summary>
        /// Retires its region keys and supersedes every node's gate; <paramref name="whenQuiet"/> runs once, when
        /// none has a store call running. Then the incarnation before this one is dropped (see <see cref="DropPrevious"/>).
        /// </summary>
        public void Supersede(Action whenQuiet)
        {
            // At once, not when quiet: from here on, whatever this incarnation writes one-sidedly lands unseen.
            Memory.RetireIncarnation(Number);
            whenQuiet = DropPrevious + whenQuiet;
            int remaining = Gates.Length + (Remote is null ? 0 : 1);
            void OneQuiet()
            {
                if (Interlocked.Decrement(ref remaining) == 0) whenQuiet();
            }
            foreach (var gate in Gates) gate.Supersede(OneQuiet);
            // The worker processes retire their own regions and gates, and report when they are quiet.
            Remote?.Supersede(Number, OneQuiet);
        }

        /// <summary>
        /// Frees the regions of the incarnation before this one. Not this one's own: a superseded worker's mailbox
        /// may still run what was queued on it (a quiet gate only means its store calls are done), and while it
        /// does its reads must find the region it wrote, or it would fault on a flag it never set. One more
        /// incarnation's life gives that tail time to drain; an operation later still leads nowhere and harms
        /// nothing (<see cref="OneSidedMemory.DropIncarnation"/>). So at most two incarnations' regions are held.
        /// </summary>
        private void DropPrevious()
        {
            if (Number > 0) Memory.DropIncarnation(Number - 1);
        }
    }

    private Incarnation Build(int number, DriverStart start)
    {
        var driverGate = new Generation(number);
        if (_remote is not null) return BuildWithRemoteWorkers(number, start, driverGate);
        // Fresh regions for every incarnation, each under its own key: an old worker's late write cannot reach them.
        var regions = new RegionMemory[Options.Workers];
        for (int i = 0; i < regions.Length; i++)
        {
            regions[i] = new RegionMemory(i, Options.MaxValueBytes);
            _memory.Register(new RegionKey(i, number), regions[i]);
        }
        Incarnation? self = null;
        var driver = new ClusterDriver(Options, Scheduler, _transport, Store, Counters, driverGate, start, _admission,
            Route, interruption => OnFailure(self!, interruption));
        var workerGates = Enumerable.Range(0, Options.Workers).Select(_ => new Generation(number)).ToArray();
        var workers = Enumerable.Range(0, Options.Workers)
            .Select(i => new ClusterWorker(i, Options, Scheduler, _transport, _memory, regions[i], Store, Counters, workerGates[i], start.LastCommitted + 1, _findWorkflow))
            .ToArray();
        return self = new Incarnation(number, [driverGate, .. workerGates], driver, workers, _memory, start.Epoch, Remote: null);
    }

    /// <summary>The driver alone: the worker processes built their nodes of this incarnation already (<see cref="StartRemoteAsync"/>).</summary>
    private Incarnation BuildWithRemoteWorkers(int number, DriverStart start, Generation driverGate)
    {
        Incarnation? self = null;
        var driver = new ClusterDriver(Options, Scheduler, _transport, Store, Counters, driverGate, start, _admission,
            Route, interruption => OnFailure(self!, interruption));
        return self = new Incarnation(number, [driverGate], driver, [], _memory, start.Epoch, _remote);
    }

    /// <summary>Has the worker processes build incarnation <paramref name="number"/>; the failure's reason, or null. Continues on the supervisor's mailbox.</summary>
    private Task<string?> StartRemoteAsync(int number, long firstBatch)
    {
        var done = new TaskCompletionSource<string?>();
        _remote!.Start(number, firstBatch, Options, failure => _supervisor.Post(() => Inline(() => done.TrySetResult(failure))));
        return done.Task;
    }

    /// <summary>
    /// A link to another process of the cluster was lost (the transport says so). A one-sided operation whose reply
    /// was lost has an unknown effect, so the batches in flight cannot commit: the live incarnation fails, and the
    /// recovery that follows stops the cluster if a worker's process cannot take part.
    /// </summary>
    public void LinkLost(string reason)
    {
        Incarnation? live;
        lock (_gate) live = _live;
        if (live is not null) live.Driver.Mailbox.Post(() => live.Driver.Fail(reason, commitInDoubt: null));
    }

    /// <summary>On the failed driver's mailbox: take it out of service, and recover once its store calls have drained.</summary>
    private void OnFailure(Incarnation failed, Interruption interruption)
    {
        lock (_gate)
            if (_live == failed) _live = null;
        int begun = 0;
        failed.Supersede(() =>
        {
            if (Interlocked.Exchange(ref begun, 1) == 0) _supervisor.Post(() => Inline(() => _ = RecoverAsync(failed, interruption)));
        });
        // A store call that never returns (a custom engine without timeouts) must not leave every caller waiting
        // forever. Only armed when calls are still running: a far timer lets the deterministic mode jump its clock.
        if (Volatile.Read(ref begun) == 0 && Options.StoreCallDeadline != Timeout.InfiniteTimeSpan) _supervisor.PostAfter(Options.StoreCallDeadline, () =>
        {
            if (Interlocked.Exchange(ref begun, 1) == 0)
                Stop($"a {Store.Name} store call of the failed incarnation had not returned after {Options.StoreCallDeadline.TotalSeconds:F0} s, so its effect is unknown; the cause of the failure: {interruption.Reason}", interruption);
        });
    }

    /// <summary>
    /// Builds an incarnation from the store: on start (previous null), or after <paramref name="previous"/>
    /// failed. A store that fails again is retried with backoff; after
    /// <see cref="ClusterOptions.RecoveryAttempts"/> failures without a commit between them, the cluster stops.
    /// </summary>
    private async Task RecoverAsync(Incarnation? previous, Interruption? interruption)
    {
        string reason = interruption?.Reason ?? "";
        try
        {
            if (previous is not null)
            {
                Counters.RolledBack();
                if (interruption!.LastCommitted > _committedAtLastFailure) _failuresWithoutCommit = 0;
                _committedAtLastFailure = interruption.LastCommitted;
            }
            if (Stopping)
            {
                Stop(StoppedReason, interruption);
                return;
            }
            if (interruption is { Fenced: true })
            {
                // Another node claimed the store: rolling back would fight it over the same batches.
                Stop($"another node claimed the {Store.Name} store, so this one stopped: {interruption.Reason}", interruption);
                return;
            }
            bool failed = previous is not null;
            while (true)
            {
                if (failed)
                {
                    if (++_failuresWithoutCommit > Options.RecoveryAttempts)
                        throw new StoreUnavailableException($"the {Store.Name} store failed {Options.RecoveryAttempts + 1} times in a row without a batch committing; "
                            + (interruption is not null && interruption.Reason != reason ? $"last failure: {interruption.Reason}; then: {reason}" : $"last: {reason}"));
                    await DelayAsync(Options.BackoffAfter(_failuresWithoutCommit)).ConfigureAwait(false);
                }
                RecoveredState state;
                try
                {
                    state = await StoreRecovery.ReadAsync(Store, _findWorkflow, previous?.Epoch ?? 0, Scheduler.Time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not RecoveryException)
                {
                    reason = $"recovering from the {Store.Name} store failed: {e.Message}";
                    failed = true;
                    continue;
                }
                if (Stopping)
                {
                    Stop(StoppedReason, interruption);
                    return;
                }
                if (_remote is not null && await StartRemoteAsync(NextNumber(previous), state.LastCommitted + 1).ConfigureAwait(false) is { } unavailable)
                {
                    if (previous is null) throw new RecoveryException(unavailable); // the catch below stops
                    Stop(unavailable, interruption);
                    return;
                }
                Install(previous, interruption, state);
                return;
            }
        }
        catch (Exception e)
        {
            Stop(e is RecoveryException or StoreUnavailableException ? e.Message : $"recovery failed: {e.Message}", interruption);
            if (previous is null) throw;
        }
    }

    /// <summary>Waits in the scheduler's time (virtual in the deterministic mode), continuing on the supervisor's mailbox.</summary>
    private Task DelayAsync(TimeSpan delay)
    {
        var done = new TaskCompletionSource();
        _supervisor.PostAfter(delay, () => Inline(done.SetResult));
        return done.Task;
    }

    /// <summary>
    /// Runs with no synchronization context, so an await that can continue at once does, on this
    /// mailbox: under a context (a test runner's) .NET would move it to the thread pool, and the
    /// deterministic mode would lose it.
    /// </summary>
    private static void Inline(Action action)
    {
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try { action(); }
        finally { SynchronizationContext.SetSynchronizationContext(context); }
    }

    /// <summary>
    /// Puts a fresh incarnation in service: requests of a batch that turned out committed get their
    /// results, logged batches are re-executed with their callers attached, and everything else is
    /// admitted again as new requests.
    /// </summary>
    private void Install(Incarnation? previous, Interruption? interruption, RecoveredState state)
    {
        var held = new Dictionary<long, Request>();
        var committed = new List<Request>();
        var again = new List<Request>();
        var loggedTs = state.Replay.SelectMany(b => b.Requests).Select(r => r.Ts).ToHashSet();
        if (interruption is not null)
        {
            foreach (var r in interruption.MaybeLogged)
            {
                if (r.Batch <= state.LastCommitted) committed.Add(r);
                else if (loggedTs.Contains(r.Ts)) held[r.Ts] = r;
                else again.Add(r.Reincarnate());
            }
            foreach (var r in interruption.NotLogged) again.Add(r.Reincarnate());
        }
        long now = Scheduler.Time.GetTimestamp();
        var replay = state.Replay.Select(input => (input, input.Requests.Select(l => held.TryGetValue(l.Ts, out var r)
            ? r.Reincarnate()
            : new Request(_findWorkflow(l.Workflow)!, l.Args, static _ => { }, now, l.IdempotencyKey, holdsPermit: false)).ToList())).ToList();
        long lastLogged = state.Replay.Count > 0 ? state.Replay[^1].Batch : state.LastCommitted;
        long nextTs = Math.Max(Math.Max(state.TsFloor, interruption?.NextTs ?? 0), 1);
        var next = Build(NextNumber(previous), new DriverStart(lastLogged + 1, nextTs, state.LastCommitted, state.Epoch, state.Time));
        Counters.Reexecuted(replay.Count);
        next.Driver.Mailbox.Post(() =>
        {
            foreach (var r in committed) next.Driver.AnswerRecovered(r, r.ToResult());
            foreach (var (input, requests) in replay) next.Driver.Replay(input, requests);
        });
        List<Request> parked;
        lock (_gate)
        {
            _live = _last = next;
            parked = [.. _parked];
            _parked.Clear();
        }
        foreach (var r in again) next.Driver.Post(r);
        foreach (var r in parked) next.Driver.Post(r);
    }

    private static int NextNumber(Incarnation? previous) => (previous?.Number ?? -1) + 1;

    /// <summary>
    /// Stops for good. A request whose batch input may be in the log is Unknown (the next start
    /// re-executes it; a retry with its idempotency key learns the result); the others certainly did not run.
    /// </summary>
    private void Stop(string reason, Interruption? interruption)
    {
        List<Request> parked;
        lock (_gate)
        {
            _halted = reason;
            _live = null;
            parked = [.. _parked];
            _parked.Clear();
        }
        if (interruption is not null)
        {
            foreach (var r in interruption.MaybeLogged)
                Answer(r, new WorkflowResult(WorkflowStatus.Unknown, r.Ts,
                    $"the outcome is unknown: batch {r.Batch} is in the batch log and the next start re-executes it (retry with an idempotency key to learn its result); {reason}", [], r.Workflow));
            foreach (var r in interruption.NotLogged)
                Answer(r, new WorkflowResult(WorkflowStatus.Failed, -1, $"it did not run: {reason}", [], r.Workflow));
        }
        foreach (var r in parked) Answer(r, WorkflowResult.Rejected($"the cluster stopped: {reason}"));
    }
}
