using Leasehold.Baselines;
using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Workloads.Causal;

namespace Leasehold.Cli.Bench.Causal;

/// <summary>
/// `bench --mode causal --virtual`: the same cluster in the deterministic mode, in virtual time, with
/// each server's processor modelled (a service time per ring message and per function), so server
/// counts beyond what two cores hold (16) can be compared. Throughput and latency are virtual: they
/// follow from the link latency and the modelled costs, and they replay exactly for a seed.
/// </summary>
internal sealed class CausalVirtualRunner(CausalBenchSettings settings, ProgressReport progress)
{
    public CausalBenchResult Run(CausalHistoryWriter? history)
    {
        var workload = settings.CreateWorkload();
        var scheduler = new DeterministicScheduler(settings.Seed);
        var options = settings.ToOptions() with
        {
            MessageServiceTime = TimeSpan.FromTicks((long)(settings.MessageServiceUs * TimeSpan.TicksPerMicrosecond)),
            FunctionServiceTime = TimeSpan.FromTicks((long)(settings.FunctionServiceUs * TimeSpan.TicksPerMicrosecond)),
        };
        var cluster = CausalRuntime.Create(options, scheduler, workload.Initial, CausalBenchStore.OpenMemory(settings));
        foreach (var w in workload.Workflows) cluster.Register(w);
        if (history is not null) cluster.OnFunction = history.Record;
        var latency = new LatencyRecorder();
        var time = scheduler.Time;
        var begin = time.GetUtcNow();
        var measureFrom = begin + TimeSpan.FromSeconds(settings.WarmupSeconds);
        var end = measureFrom + TimeSpan.FromSeconds(settings.DurationSeconds);
        long completed = 0, submitted = 0, failed = 0, aborted = 0, retried = 0, ringAtStart = -1;
        var random = new Random(settings.Seed);
        var tokens = new SessionToken?[settings.Clients];
        var seq = new long[settings.Clients];

        void Issue(int client)
        {
            var now = time.GetUtcNow();
            if (now >= end) return;
            var (workflow, args) = workload.Next(random);
            bool counted = now >= measureFrom;
            if (counted) submitted++;
            cluster.Submit(workflow, args, result =>
            {
                var done = time.GetUtcNow();
                if (done >= measureFrom && done < end)
                {
                    completed++;
                    latency.Record((long)(done - now).TotalMicroseconds);
                }
                if (counted)
                {
                    if (!result.Succeeded) failed++;
                    aborted += result.Aborts;
                    if (result.Succeeded && result.Aborts > 0) retried++;
                }
                workload.Observe(workflow, result.Status, result.Outputs);
                if (settings.Sessions && result.Token is not null) tokens[client] = result.Token;
                Issue(client);
            }, new CausalInvocation { Token = tokens[client], Process = client, Seq = seq[client]++ });
        }

        for (int c = 0; c < settings.Clients; c++) Issue(c);
        long steps = 0;
        while (scheduler.Step())
        {
            if (ringAtStart < 0 && time.GetUtcNow() >= measureFrom) ringAtStart = cluster.RingMessages;
            if (++steps % 2_000_000 == 0) progress((time.GetUtcNow() - begin).TotalSeconds, $"virtual time  completed {completed:N0}");
        }
        if (scheduler.Fault is { } fault) throw new InvalidOperationException($"the engine stopped (seed {settings.Seed}): {fault}");
        double seconds = settings.DurationSeconds;
        return new CausalBenchResult
        {
            Settings = settings,
            Submitted = submitted,
            Committed = completed,
            Failed = failed,
            Aborted = aborted,
            Retried = retried,
            MeasuredSeconds = seconds,
            ThroughputTps = completed / seconds,
            P50Ms = latency.PercentileMs(50),
            P90Ms = latency.PercentileMs(90),
            P99Ms = latency.PercentileMs(99),
            MaxMs = latency.MaxMs,
            RingMessagesPerWorkflow = completed > 0 ? (double)(cluster.RingMessages - Math.Max(ringAtStart, 0)) / completed : 0,
            Messages = cluster.Messages,
            PeakWorkingSetMb = 0,
            Invariant = workload.Check(),
            Persistence = CausalBenchResult.PersistenceOf(cluster),
            ServerUtilization = cluster.ServerBusy.Select(b => b.TotalSeconds / (settings.WarmupSeconds + settings.DurationSeconds)).ToArray(),
        };
    }
}
