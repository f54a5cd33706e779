using System.Diagnostics;
using Leasehold.Cli.Processes;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Storage;
using Leasehold.Workloads;

namespace Leasehold.Cli.Bench;

/// <summary>
/// Runs one benchmark on real threads: closed loop (each client keeps one request outstanding) or, with
/// a rate, open loop at fixed arrival times with latency measured from each request's scheduled start,
/// so a stalled engine cannot hide its queueing (no coordinated omission).
/// </summary>
internal sealed class BenchRunner(BenchSettings settings, ProgressReport progress)
{
    private readonly LatencyRecorder _latency = new();
    // Completions seen at any time (throughput is taken from these over the measured window)...
    private long _committed, _aborted;
    // ...and the outcomes of the requests submitted inside the measured window, which the JSON reports.
    private long _submitted, _wCommitted, _wAborted, _wFailed, _wRejected, _wUnknown;
    private volatile bool _measuring;
    private volatile bool _stopping;
    private BenchHistory? _history;

    public async Task<BenchResult> RunAsync(CancellationToken cancellation)
    {
        var workload = WorkloadFactory.Create(settings);
        using var history = _history = BenchHistory.For(workload, settings);
        // Worker processes started here open the store too: the server's connection slots are shared between them.
        if (settings is { Links: not null, Processes: { } workers } && Stores.StoreSpec.Parse(settings.Store).Spec is { Engine: "postgres", Target: { } connection })
            settings = settings with { Store = "postgres:" + await Stores.PostgresPoolBudget.ShareAsync(connection, workers + 1, cancellation) };
        await using var opened = await Stores.StoreSpec.Parse(settings.Store).Spec!.OpenAsync("bench");
        var store = opened.Store;
        if (await store.LastCommittedAsync(cancellation) > 0)
            throw new Runtime.Storage.StoreUnavailableException($"the {store.Name} store already holds committed batches; bench needs a fresh store (give a new path or schema, or none for a temporary one), and leaves this one as it is");
        try
        {
            await store.LoadAsync(workload.InitialState(), cancellation);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A store error (a full disk) is the run's failure, named in one line, not a crash dump.
            throw new InvalidOperationException($"loading the initial state into the {store.Name} store failed: {e.Message}", e);
        }
        using var scheduler = new ThreadPoolScheduler();
        await using var processes = settings.Links is { } links ? await WorkerProcesses.StartAsync(settings, links, opened, workload, scheduler, cancellation) : null;
        var cluster = processes?.Cluster ?? new SerializableCluster(settings.ToClusterOptions(), scheduler, store);
        if (processes is null) foreach (var w in workload.Workflows) cluster.Register(w);

        var loop = settings.Rate is { } rate
            // A dedicated thread: the generator never yields its thread, and on the pool it would starve the engine.
            ? Task.Factory.StartNew(() => OpenLoop(cluster, workload, rate), cancellation, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            : Task.WhenAll(Enumerable.Range(0, settings.Clients).Select(c => ClosedLoop(cluster, workload, c)));

        var clock = Stopwatch.StartNew();
        double warmup = settings.WarmupSeconds, end = warmup + settings.DurationSeconds;
        var syncCounter = store as ISyncCounter; // the engines that sync count their synced writes
        WindowCounters Counters() => WindowCounters.Take(cluster, syncCounter, Interlocked.Read(ref _committed));
        // Zero until the window opens: a run that never opened one reports whole-run counts.
        var atStart = default(WindowCounters) with { Syncs = syncCounter is null ? null : 0 };
        double measureStart = 0;
        // The worker processes' counters where the window opens and closes (their CPU): null if they did not all answer.
        IReadOnlyList<Runtime.Hosting.Processes.WorkerReport>? workersAtStart = null;
        // The window ends at --duration once it holds --min-committed commits; a loaded machine only makes it longer.
        bool WindowDone(double now)
        {
            if (now < end) return false;
            if (!_measuring) return settings.MinCommitted == 0; // a delay that jumped past both marks: measure first
            long inWindow = Interlocked.Read(ref _wCommitted); // the figure the result reports as committed
            if (inWindow >= settings.MinCommitted) return true;
            if (now >= end + BenchSettings.MinCommittedGrace.TotalSeconds)
                throw new TimeoutException($"the measured window held {inWindow} commits {BenchSettings.MinCommittedGrace.TotalSeconds:0} s past --duration, short of --min-committed {settings.MinCommitted}: the engine makes no progress");
            return false;
        }
        while (!WindowDone(clock.Elapsed.TotalSeconds) && !cancellation.IsCancellationRequested)
        {
            if (!_measuring && clock.Elapsed.TotalSeconds >= warmup)
            {
                atStart = Counters();
                measureStart = clock.Elapsed.TotalSeconds;
                _measuring = true;
                workersAtStart = await cluster.WorkerReportsNowAsync(TimeSpan.FromSeconds(5));
            }
            ThrowIfStopped(cluster, scheduler);
            processes?.ThrowIfWorkerExited();
            if (settings.Rate is null && loop.IsCompleted) await loop; // a client died: surface its exception
            await Task.Delay(250, CancellationToken.None);
            progress(clock.Elapsed.TotalSeconds, $"{(_measuring ? "measuring" : "warming up")}  committed {Interlocked.Read(ref _committed):N0}  aborted {Interlocked.Read(ref _aborted):N0}  outstanding {cluster.Outstanding:N0}  batches {cluster.LastCommittedBatch:N0}");
        }
        if (!_measuring)
        {
            measureStart = clock.Elapsed.TotalSeconds;
            _measuring = true;
        }
        double measured = clock.Elapsed.TotalSeconds - measureStart;
        var window = Counters() - atStart;
        long committedInWindow = window.Committed;
        var workersAtEnd = await cluster.WorkerReportsNowAsync(TimeSpan.FromSeconds(5));
        TimeSpan? workersCpu = workersAtStart is null || workersAtEnd is null || workersAtStart.Count != workersAtEnd.Count ? null
            : workersAtEnd.Aggregate(TimeSpan.Zero, (sum, r) => sum + r.Cpu) - workersAtStart.Aggregate(TimeSpan.Zero, (sum, r) => sum + r.Cpu);
        _stopping = true;

        var drained = await Task.WhenAny(loop, Task.Delay(TimeSpan.FromSeconds(60), CancellationToken.None));
        ThrowIfStopped(cluster, scheduler);
        if (drained != loop)
            throw new TimeoutException($"{cluster.Outstanding} requests still outstanding 60 s after the run ended: the engine is stuck. {await StuckAsync(cluster, processes)}");
        await loop;
        var deadline = Stopwatch.StartNew();
        while (cluster.Outstanding > 0 && deadline.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(10, CancellationToken.None);
        if (cluster.Outstanding > 0) throw new TimeoutException($"{cluster.Outstanding} requests never answered: the engine is stuck. {await StuckAsync(cluster, processes)}");
        ThrowIfStopped(cluster, scheduler);

        // Worker processes retire and exit before the store is checked and released; they report their counters as they go.
        IReadOnlyList<Runtime.Hosting.Processes.WorkerReport>? reports = null;
        if (processes is not null)
        {
            await processes.StopAsync();
            reports = await processes.ReportsAsync();
        }
        var invariant = await workload.CheckAsync(store, CancellationToken.None);
        progress(end, "checking the history…");
        var checker = history?.Check();
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        return new BenchResult
        {
            Settings = settings,
            Submitted = Interlocked.Read(ref _submitted),
            Committed = Interlocked.Read(ref _wCommitted),
            Aborted = Interlocked.Read(ref _wAborted),
            Failed = Interlocked.Read(ref _wFailed),
            Rejected = Interlocked.Read(ref _wRejected),
            Unknown = Interlocked.Read(ref _wUnknown),
            MeasuredSeconds = measured,
            ThroughputTps = measured > 0 ? committedInWindow / measured : 0,
            P50Ms = _latency.PercentileMs(50),
            P90Ms = _latency.PercentileMs(90),
            P99Ms = _latency.PercentileMs(99),
            MaxMs = _latency.MaxMs,
            // With worker processes these are the workers' own counts, whole run, from their reports at shutdown.
            RemoteOps = reports?.Sum(r => r.OneSidedOperations) ?? cluster.RemoteOperations,
            LeaseTransfers = reports?.Sum(r => r.LeaseTransfers) ?? cluster.Counters.LeaseTransfers,
            LocalRatio = reports is null ? cluster.Counters.LocalRatio : LocalRatioOf(reports),
            WorkersReported = reports?.Count,
            PeakWorkingSetMb = self.PeakWorkingSet64 / (1024.0 * 1024.0),
            AllocBytesPerTxn = PerCommitted(window.Allocated, committedInWindow),
            PostsPerTxn = PerCommitted(window.Posts, committedInWindow),
            WakeupsPerTxn = PerCommitted(window.Wakeups, committedInWindow),
            CpuUsPerTxn = PerCommitted(window.Cpu.TotalMicroseconds, committedInWindow),
            CpuUsPerTxnAllProcesses = workersCpu is { } elsewhere ? PerCommitted((window.Cpu + elsewhere).TotalMicroseconds, committedInWindow) : null,
            SyncsPerTxn = window.Syncs is { } n ? PerCommitted(n, committedInWindow) : null,
            SyncsPerBatch = window.Syncs is { } m ? PerCommitted(m, window.Batches) : null,
            TxnPerBatch = PerCommitted(committedInWindow, window.Batches),
            BatchPhaseMs = window.PhaseMeansMs(),
            BatchesCommitted = cluster.Counters.BatchesCommitted,
            Messages = cluster.Messages,
            WireBytesPerTxn = processes is null || reports is null ? null
                : PerCommitted(processes.DriverBytesSent + reports.Sum(r => r.WireBytesSent), Interlocked.Read(ref _committed)),
            OutcomeBarriers = cluster.Counters.OutcomeBarriers,
            GcCollections = [window.Gen0, window.Gen1, window.Gen2],
            GcPauseMs = window.GcPause.TotalMilliseconds,
            Invariant = invariant,
            Checker = checker,
        };
    }

    /// <summary>What each part of a stuck cluster waits for, then what its worker processes printed last.</summary>
    private static async Task<string> StuckAsync(SerializableCluster cluster, WorkerProcesses? processes)
    {
        // Bounded here too: the worker processes' answers are bounded on the fleet's own mailbox, and a run that is stuck
        // must still end with its error, described or not.
        IReadOnlyList<string> described;
        try { described = await cluster.DescribeAsync(TimeSpan.FromSeconds(5)).WaitAsync(TimeSpan.FromSeconds(30)); }
        catch (TimeoutException) { described = ["the cluster did not describe itself within 30 s (its mailboxes are not running)"]; }
        string parts = string.Join(Environment.NewLine + "  ", described);
        string output = processes?.Output() is { Length: > 0 } printed ? $"{Environment.NewLine}{printed}" : "";
        return $"What each part waits for:{Environment.NewLine}  {parts}{output}";
    }

    private static double PerCommitted(double amount, long committed) => committed > 0 ? amount / committed : 0;

    private static double LocalRatioOf(IReadOnlyList<Runtime.Hosting.Processes.WorkerReport> reports)
    {
        long local = reports.Sum(r => r.LocalAccesses), remote = reports.Sum(r => r.RemoteAccesses);
        return local + remote == 0 ? 1 : (double)local / (local + remote);
    }

    /// <summary>
    /// An internal fault, or a cluster that stopped for good (its store kept failing: a full disk, a lost
    /// server), ends the run as a failure naming the cause; from then on every request would only be
    /// refused, and a summary of refusals is no benchmark.
    /// </summary>
    private void ThrowIfStopped(SerializableCluster cluster, ThreadPoolScheduler scheduler)
    {
        string? why = scheduler.Fault is { } fault ? $"the engine stopped: {fault}"
            : cluster.StopReason is { } stopped ? $"the cluster stopped: {stopped}" : null;
        if (why is null) return;
        _stopping = true; // the clients stop submitting
        throw new InvalidOperationException(why);
    }

    private async Task ClosedLoop(SerializableCluster cluster, IWorkload workload, int client)
    {
        await Task.Yield();
        var random = new Random(HashCode.Combine(settings.Seed, client));
        long process = client;
        // A stopped cluster refuses at once, without yielding: spinning on that would starve the thread pool.
        while (!_stopping && cluster.StopReason is null)
        {
            var (workflow, args) = workload.Next(random);
            long start = Stopwatch.GetTimestamp();
            bool measured = _measuring && !_stopping;
            if (measured) Interlocked.Increment(ref _submitted);
            _history?.Invoke(process, workflow, args);
            var result = await cluster.InvokeAsync(workflow, args).ConfigureAwait(false);
            Complete(workload, workflow, args, result, start, measured, process);
            // Jepsen: a process whose operation ended unknown is retired for a fresh one.
            if (result.Status == WorkflowStatus.Unknown && _history is not null) process = _history.FreshProcess();
        }
    }

    /// <summary>
    /// Issues each request at its scheduled time, i / rate after the start, and everything already due
    /// at once. Waits longer than a millisecond sleep; shorter ones yield the core (a sleep would return
    /// a millisecond late). A request's latency counts from its own scheduled time, late issue included.
    /// </summary>
    private void OpenLoop(SerializableCluster cluster, IWorkload workload, double rate)
    {
        var random = new Random(settings.Seed);
        long origin = Stopwatch.GetTimestamp();
        double ticksPerRequest = Stopwatch.Frequency / rate;
        long i = 0;
        while (!_stopping)
        {
            long now = Stopwatch.GetTimestamp();
            for (long scheduled = origin + (long)(i * ticksPerRequest); scheduled <= now && !_stopping; scheduled = origin + (long)(++i * ticksPerRequest))
            {
                var (workflow, args) = workload.Next(random);
                bool measured = _measuring && !_stopping;
                long start = scheduled;
                if (measured) Interlocked.Increment(ref _submitted);
                long process = _history?.FreshProcess() ?? 0; // open loop: every request is its own process
                _history?.Invoke(process, workflow, args);
                cluster.Submit(workflow, args, result => Complete(workload, workflow, args, result, start, measured, process));
            }
            // Sleep, never spin: a generator yielding in a loop kept one of the machine's cores busy and starved the
            // engine it measures (at half of the peak, p50 went to 170 ms on 2 cores). Requests that fall due while it
            // sleeps go out together when it wakes, and their latency still counts from their scheduled start.
            Thread.Sleep(1);
        }
    }

    /// <summary><paramref name="measured"/>: submitted inside the measured window and answered before the run ended.</summary>
    private void Complete(IWorkload workload, string workflow, Args args, WorkflowResult result, long start, bool measured, long process)
    {
        _history?.Complete(process, workflow, args, result);
        workload.Observe(workflow, args, result);
        if (result.Status == WorkflowStatus.Committed) Interlocked.Increment(ref _committed);
        else if (result.Status == WorkflowStatus.Aborted) Interlocked.Increment(ref _aborted);
        if (!measured) return;
        switch (result.Status)
        {
            case WorkflowStatus.Committed: Interlocked.Increment(ref _wCommitted); break;
            case WorkflowStatus.Aborted: Interlocked.Increment(ref _wAborted); break;
            case WorkflowStatus.Failed: Interlocked.Increment(ref _wFailed); break;
            case WorkflowStatus.Unknown: Interlocked.Increment(ref _wUnknown); break;
            case WorkflowStatus.Rejected: Interlocked.Increment(ref _wRejected); return; // never ran: no latency
        }
        _latency.Record((long)Stopwatch.GetElapsedTime(start).TotalMicroseconds);
    }
}
