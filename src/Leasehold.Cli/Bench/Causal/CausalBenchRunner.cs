using System.Diagnostics;
using Leasehold.Baselines;
using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Workloads.Causal;

namespace Leasehold.Cli.Bench.Causal;

/// <summary>
/// Runs one causal benchmark on real threads: closed-loop clients, each a session that carries its
/// token from workflow to workflow (unless told not to), latency from submit to the reply.
/// </summary>
internal sealed class CausalBenchRunner(CausalBenchSettings settings, ProgressReport progress)
{
    private readonly LatencyRecorder _latency = new();
    private long _completed, _submitted, _wCompleted, _wFailed, _wAborted, _wRetried;
    private volatile bool _measuring;
    private volatile bool _stopping;

    public async Task<CausalBenchResult> RunAsync(CausalHistoryWriter? history, CancellationToken cancellation)
    {
        var workload = settings.CreateWorkload();
        var (opened, store) = await CausalBenchStore.OpenAsync(settings, cancellation);
        await using var _ = opened;
        using var scheduler = new ThreadPoolScheduler();
        // Across processes this process hosts the client only; the servers, and what only they count, are the workers'.
        await using var processes = settings.Links is not null ? await Processes.CausalWorkerProcesses.StartAsync(settings, workload, scheduler, cancellation) : null;
        var cluster = processes is null ? CausalRuntime.Create(settings.ToOptions(), scheduler, workload.Initial, store) : null;
        if (cluster is not null)
        {
            foreach (var w in workload.Workflows) cluster.Register(w);
            if (history is not null) cluster.OnFunction = history.Record;
        }
        else if (history is not null) processes!.Client.OnFunction = history.Record;
        Func<string, Args, CausalInvocation?, Task<CausalResult>> invoke = cluster is not null ? cluster.InvokeAsync : processes!.Client.InvokeAsync;
        var clients = Enumerable.Range(0, settings.Clients).Select(c => ClosedLoop(invoke, workload, c)).ToArray();
        var loop = Task.WhenAll(clients);
        var clock = Stopwatch.StartNew();
        double warmup = settings.WarmupSeconds, end = warmup + settings.DurationSeconds, measureStart = 0;
        long completedAtStart = 0, messagesAtStart = 0;
        while (clock.Elapsed.TotalSeconds < end && !cancellation.IsCancellationRequested)
        {
            if (!_measuring && clock.Elapsed.TotalSeconds >= warmup)
            {
                completedAtStart = Interlocked.Read(ref _completed);
                messagesAtStart = cluster?.RingMessages ?? 0;
                measureStart = clock.Elapsed.TotalSeconds;
                _measuring = true;
            }
            if (scheduler.Fault is { } fault) throw new InvalidOperationException($"the engine stopped: {fault}");
            processes?.ThrowIfStopped();
            if (loop.IsCompleted) await loop;
            await Task.Delay(250, CancellationToken.None);
            progress(clock.Elapsed.TotalSeconds, $"{(_measuring ? "measuring" : "warming up")}  completed {Interlocked.Read(ref _completed):N0}");
        }
        if (!_measuring)
        {
            measureStart = clock.Elapsed.TotalSeconds;
            _measuring = true;
        }
        double measured = clock.Elapsed.TotalSeconds - measureStart;
        long inWindow = Interlocked.Read(ref _completed) - completedAtStart;
        long? ringMessages = cluster?.RingMessages - messagesAtStart;
        _stopping = true;
        if (await Task.WhenAny(loop, Task.Delay(TimeSpan.FromSeconds(60), CancellationToken.None)) != loop)
            throw new TimeoutException("causal workflows still outstanding 60 s after the run ended: the engine is stuck");
        await loop;
        processes?.ThrowIfStopped();
        // The workers retire and exit once every caller is answered.
        if (processes is not null) await processes.StopAsync();
        // Write-behind: what was acknowledged is persisted before the store closes (the figures above do not wait for it).
        for (int wait = 0; store is { Idle: false } && wait < 600 && scheduler.Fault is null; wait++) await Task.Delay(100, CancellationToken.None);
        if (scheduler.Fault is { } late) throw new InvalidOperationException($"the engine stopped: {late}");
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        return new CausalBenchResult
        {
            Settings = settings,
            Submitted = Interlocked.Read(ref _submitted),
            Committed = Interlocked.Read(ref _wCompleted),
            Failed = Interlocked.Read(ref _wFailed),
            Aborted = Interlocked.Read(ref _wAborted),
            Retried = Interlocked.Read(ref _wRetried),
            MeasuredSeconds = measured,
            ThroughputTps = measured > 0 ? inWindow / measured : 0,
            P50Ms = _latency.PercentileMs(50),
            P90Ms = _latency.PercentileMs(90),
            P99Ms = _latency.PercentileMs(99),
            MaxMs = _latency.MaxMs,
            RingMessagesPerWorkflow = ringMessages is { } ring ? (inWindow > 0 ? (double)ring / inWindow : 0) : null,
            Messages = cluster?.Messages,
            PeakWorkingSetMb = self.PeakWorkingSet64 / (1024.0 * 1024.0),
            Invariant = workload.Check(),
            Persistence = cluster is null ? null : CausalBenchResult.PersistenceOf(cluster),
        };
    }

    private async Task ClosedLoop(Func<string, Args, CausalInvocation?, Task<CausalResult>> invoke, ICausalWorkload workload, int client)
    {
        await Task.Yield();
        var random = new Random(HashCode.Combine(settings.Seed, client));
        SessionToken? token = null;
        long seq = 0;
        while (!_stopping)
        {
            var (workflow, args) = workload.Next(random);
            bool counted = _measuring;
            if (counted) Interlocked.Increment(ref _submitted);
            long start = Stopwatch.GetTimestamp();
            var result = await invoke(workflow, args, new CausalInvocation { Token = token, Process = client, Seq = seq++ });
            workload.Observe(workflow, result.Status, result.Outputs);
            long us = (long)Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            Interlocked.Increment(ref _completed);
            if (_measuring) _latency.Record(us);
            if (counted)
            {
                if (result.Succeeded) Interlocked.Increment(ref _wCompleted);
                else Interlocked.Increment(ref _wFailed);
                Interlocked.Add(ref _wAborted, result.Aborts);
                if (result.Succeeded && result.Aborts > 0) Interlocked.Increment(ref _wRetried);
            }
            if (settings.Sessions && result.Token is not null) token = result.Token;
        }
    }
}
