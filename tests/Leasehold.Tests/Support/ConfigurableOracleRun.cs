using System.Text;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Support;

/// <summary>
/// A variant of RandomWorkflowRun for stress variations: the cluster options are forced by the caller, the
/// scheduler can be the chaos scheduler (timers fire in the middle of work), runs can be long, and after
/// the run the per-batch state must be freed.
/// </summary>
public static class ConfigurableOracleRun
{

    public sealed record Config
    {
        public Func<Random, ClusterOptions, ClusterOptions> Options { get; init; } = (_, o) => o;
        public int MinRequests { get; init; } = 1;
        public int MaxRequests { get; init; } = 60;
        public int MinKeys { get; init; } = 2;
        public int MaxKeys { get; init; } = 7;
        public double TimerBias { get; init; } = -1; // < 0: the stock DeterministicScheduler
        public bool RealThreads { get; init; }
        public int MaxWorkflowFunctions { get; init; } = 6;
        public int MaxKeysPerFunction { get; init; } = 3;
        /// <summary>Probability that a function may fail by error (throws, or touches an undeclared key).</summary>
        public double ErrorFunctions { get; init; }
        /// <summary>Accept Aborted for Failed and back: when two parallel functions both end the workflow, which one is first is timing.</summary>
        public bool LenientEndStatus { get; init; }
    }

    public sealed record Outcome(bool Ok, string Problem, ClusterOptions Options, long RemoteOps, long Transfers, int Aborted, int Requests);

    public static void Check(int seed, Config config, string name)
    {
        var o = Run(seed, config);
        if (!o.Ok) throw new Xunit.Sdk.XunitException($"{name} seed {seed}: {o.Problem}\noptions: {o.Options}");
    }

    public static Outcome Run(int seed, Config config)
    {
        var random = new Random(seed);
        int keySpace = random.Next(config.MinKeys, config.MaxKeys);
        var workflows = Enumerable.Range(0, random.Next(1, 4)).Select(i => RandomWorkflows.Generate(random, $"wf{i}", config.MaxWorkflowFunctions, config.MaxKeysPerFunction, config.ErrorFunctions)).ToArray();
        var options = new ClusterOptions
        {
            Workers = random.Next(1, 9),
            ExecutorsPerWorker = random.Next(1, 4),
            MaxBatchSize = random.Next(1, 12),
            MaxBatchDelay = TimeSpan.FromMicroseconds(random.Next(5, 200)),
            RemoteOpLatency = TimeSpan.FromMicroseconds(random.Next(0, 20)),
            LinkLatency = TimeSpan.FromMicroseconds(random.Next(0, 20)),
            Decay = random.NextDouble() < 0.5 ? 0.5 : 0.95,
            LeaseHysteresis = random.NextDouble() < 0.5 ? 0 : 1,
            Routing = random.NextDouble() < 0.3 ? RoutingPolicy.PerKeyVoting : RoutingPolicy.SummedScore,
            AffinityWeight = new[] { 0.0, 0.2, 1.0 }[random.Next(3)],
            LoadWeight = new[] { 1.0, 3.0 }[random.Next(2)],
        };
        options = config.Options(random, options);
        var initial = RandomWorkflows.Tables.SelectMany(t => Enumerable.Range(0, keySpace).Where(k => k % 3 != 2)
            .Select(k => new KeyValuePair<StateKey, byte[]>(new StateKey(t, $"k{k}"), Value.FromLong(k * 10 + 5)))).ToList();

        IScheduler scheduler;
        Func<long> now;
        Func<Func<bool>, bool> runUntil; // false: nothing left to run
        ThreadPoolScheduler? pool = null;
        if (config.RealThreads)
        {
            pool = new ThreadPoolScheduler();
            scheduler = pool;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            now = () => (long)clock.Elapsed.TotalNanoseconds;
            runUntil = done =>
            {
                var limit = System.Diagnostics.Stopwatch.StartNew();
                while (!done())
                {
                    // A liveness bound, generous for a loaded machine: it turns a deadlock into a failure, it does not ask for speed.
                    if (limit.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException("real threads: no completion within 2 minutes");
                    Thread.Sleep(1);
                }
                return true;
            };
        }
        else if (config.TimerBias < 0)
        {
            var d = new DeterministicScheduler(seed);
            scheduler = d; now = () => d.VirtualTime.Nanoseconds;
            runUntil = done => { d.RunUntil(done, 50_000_000); return true; };
        }
        else
        {
            var c = new DeterministicScheduler(seed, config.TimerBias);
            scheduler = c; now = () => c.VirtualTime.Nanoseconds;
            runUntil = done => { c.RunUntil(done, 50_000_000); return true; };
        }
        var store = new MemoryStateStore();
        store.Load(initial);
        var cluster = new SerializableCluster(options, scheduler, store);
        foreach (var w in workflows) cluster.Register(w);

        var submitted = new List<(string Wf, Args Args, WorkflowResult? Result)>();
        int answered = 0;
        int requests = random.Next(config.MinRequests, config.MaxRequests);
        var requestRandom = new Random(seed ^ 0x5eed);
        int n = 0;
        while (n < requests)
        {
            int wave = requestRandom.Next(1, 10);
            for (int i = 0; i < wave && n < requests; i++, n++)
            {
                var wf = workflows[requestRandom.Next(workflows.Length)];
                var args = Args.Create();
                foreach (var name in RandomWorkflows.ParamNames(wf)) args.Set(name, $"k{requestRandom.Next(keySpace)}");
                args.Set("salt", requestRandom.Next(1000));
                int index = submitted.Count;
                var built = args.Build();
                lock (submitted) submitted.Add((wf.Name, built, null));
                cluster.Submit(wf.Name, built, r => { lock (submitted) submitted[index] = (submitted[index].Wf, submitted[index].Args, r); Interlocked.Increment(ref answered); });
            }
            long until = now() + requestRandom.Next(0, config.RealThreads ? 3_000_000 : 300_000);
            runUntil(() => now() >= until || scheduler.Fault is not null);
        }
        using var disposePool = pool;
        Outcome Fail(string why) => new(false, why, options, cluster.RemoteOperations, cluster.Counters.LeaseTransfers, 0, submitted.Count);
        try
        {
            runUntil(() => Volatile.Read(ref answered) == submitted.Count || scheduler.Fault is not null);
            if (scheduler.Fault is { } f) return Fail($"protocol fault: {f}");
            if (answered != submitted.Count) return Fail($"{submitted.Count - answered} of {submitted.Count} never answered (deadlock or lost request)");
            if (config.RealThreads)
            {
                // The last answer can come before the per-batch state is freed (that happens on other threads, after
                // it): wait for it to be freed, with a liveness bound as generous as the one above. A 2 s wait here
                // reported state "not freed" when a loaded machine was merely slow to free it.
                var settle = System.Diagnostics.Stopwatch.StartNew();
                while ((cluster.WorkerBatchesInFlight != 0 || cluster.DriverBatchesInFlight != 0 || cluster.Outstanding != 0) && settle.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(1);
            }
            else runUntil(() => false);
        }
        catch (TimeoutException e) { return Fail($"livelock/stuck: {e.Message}; answered {Volatile.Read(ref answered)} of {submitted.Count}; fault {scheduler.Fault}"); }
        if (scheduler.Fault is { } late) return Fail($"protocol fault after the last answer: {late}");
        if (cluster.WorkerBatchesInFlight != 0 || cluster.DriverBatchesInFlight != 0 || cluster.Outstanding != 0)
            return Fail($"per-batch state not freed: worker batches {cluster.WorkerBatchesInFlight}, driver batches {cluster.DriverBatchesInFlight}, outstanding {cluster.Outstanding}");

        var reference = new SerialReference(initial);
        foreach (var (wf, args, result) in submitted.OrderBy(x => x.Result!.Timestamp))
        {
            var expected = reference.Execute(cluster.Workflow(wf), args, result!.Timestamp, DateTimeOffset.UnixEpoch);
            bool bothEnded = expected.Status is WorkflowStatus.Aborted or WorkflowStatus.Failed && result.Status is WorkflowStatus.Aborted or WorkflowStatus.Failed;
            if (expected.Status != result.Status && !(config.LenientEndStatus && bothEnded))
                return Fail($"{wf} {args} ts {result.Timestamp}: engine {result.Status} ({result.Reason}), serial {expected.Status} ({expected.Reason})");
            if (result.Status == WorkflowStatus.Committed)
                for (int f = 0; f < expected.Outputs.Length; f++)
                    if (!Value.SameBytes(expected.Outputs[f], result.Outputs[f]))
                        return Fail($"{wf} {args} ts {result.Timestamp}: output of f{f} differs: engine {RandomWorkflows.Show(result.Outputs[f])}, serial {RandomWorkflows.Show(expected.Outputs[f])}");
        }
        foreach (var t in RandomWorkflows.Tables)
            for (int k = 0; k < keySpace; k++)
            {
                var key = new StateKey(t, $"k{k}");
                var engine = store.ReadCommittedAsync(key).AsTask().GetAwaiter().GetResult();
                if (!Value.SameBytes(engine, reference.Get(key)))
                    return Fail($"final state of {key}: engine {RandomWorkflows.Show(engine)}, serial {RandomWorkflows.Show(reference.Get(key))}");
            }
        return new(true, "", options, cluster.RemoteOperations, cluster.Counters.LeaseTransfers,
            submitted.Count(s => s.Result!.Status == WorkflowStatus.Aborted), submitted.Count);
    }
}
