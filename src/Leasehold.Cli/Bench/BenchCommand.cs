using System.CommandLine;
using Leasehold.Cli.Processes;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Transport;
using Spectre.Console;

namespace Leasehold.Cli.Bench;

/// <summary>`leasehold bench`: flags, validation, the live progress, the summary table and the JSON file.</summary>
internal static class BenchCommand
{
    public static Command Create() => Create("bench", "Run a workload on an in-process cluster and report throughput, latency and the workload's invariant");

    /// <summary>
    /// `leasehold driver`: the same run as a bench, as the driver of worker processes started by hand (`leasehold
    /// worker`) from a cluster map: --cluster and --key-file are required, --transport is tcp by default.
    /// </summary>
    public static Command CreateDriver() => Create("driver", "Run the driver of a multi-process cluster (workers started with `leasehold worker`), driving a workload as bench does");

    private static Command Create(string name, string description)
    {
        bool driver = name == "driver";
        var mode = new Option<string>("--mode") { Description = "serializable (the lease engine) | causal (the CausalMesh cache for roaming workflows)", DefaultValueFactory = _ => "serializable" };
        mode.AcceptOnlyFromAmong("serializable", "causal");
        var workload = new Option<string?>("--workload") { Description = "serializable: banking (default) | micro | list-append (Elle's, checked after the run) | bank (Jepsen's) | cycle (FoundationDB's); causal: causal-micro (default)" };
        workload.AcceptOnlyFromAmong("banking", "micro", "list-append", "bank", "cycle", "causal-micro", "media");
        var protocol = new Option<string?>("--protocol") { Description = "serializable: lease (default, the RTSFaaS protocol) | nocc (no concurrency control: unsafe upper bound); causal: causalmesh (default) | eventual (the negative control) | hydro-con | hydro-opt | faastcc (the baselines); a comma list runs each, side by side" };
        var store = new Option<string?>("--store") { Description = "state store: memory | rocksdb[:PATH] (the default; a fresh temporary directory without a path) | postgres:CONNECTION-STRING (its Search Path names the schema; a temporary one without) | redis:HOST:PORT[,HOST:PORT…] (a Redis Cluster; a temporary keyspace); a comma list runs each, side by side" };
        var linkLatency = new Option<double?>("--link-latency-us") { Description = "causal: waiting time per message hop (ring links, a workflow moving between servers, replies)" };
        var noEager = new Option<bool>("--no-eager") { Description = "causal: integrate writes only when a read needs them, not on their stable notice" };
        var virtualTime = new Option<bool>("--virtual") { Description = "causal: run in the deterministic mode in virtual time, with modelled server processors (server counts beyond the machine)" };
        var serviceUs = new Option<double>("--service-us") { Description = "causal --virtual: modelled processor time per ring message", DefaultValueFactory = _ => 3 };
        var functionUs = new Option<double>("--function-us") { Description = "causal --virtual: modelled processor time per function", DefaultValueFactory = _ => 6 };
        var transactions = new Option<bool>("--transactions") { Description = "causal: run every workflow as a read-write transaction (TCC: one snapshot for all reads, writes visible together, may abort and retry)" };
        var durability = new Option<string>("--durability") { Description = "causal: none (state in the caches only) | write-behind (persist in background batches) | sync (a workflow's result waits until its writes are durable); with --store", DefaultValueFactory = _ => "none" };
        durability.AcceptOnlyFromAmong("none", "write-behind", "sync");
        var cacheCapacity = new Option<int>("--cache-capacity") { Description = "causal: C-cache keys per server, evicting keys the store holds (0: unbounded; needs --durability)", DefaultValueFactory = _ => 0 };
        var noSessions = new Option<bool>("--no-sessions") { Description = "causal: every workflow is its own client (no session token carried to the next)" };
        var workers = new Option<int>("--workers") { Description = "workers in the in-process cluster", DefaultValueFactory = _ => 4 };
        var executors = new Option<int>("--executors") { Description = "executors per worker", DefaultValueFactory = _ => 2 };
        var clients = new Option<int>("--clients") { Description = "closed loop: requests kept outstanding", DefaultValueFactory = _ => 64 };
        var duration = new Option<double>("--duration") { Description = "measured seconds", DefaultValueFactory = _ => 10 };
        var minCommitted = new Option<long>("--min-committed") { Description = "serializable: the measured window lasts past --duration until it holds at least this many commits (a short run that must measure something, on a machine of any speed)", DefaultValueFactory = _ => 0 };
        var warmup = new Option<double>("--warmup") { Description = "seconds run before measuring (JIT tiering and heap growth settle)", DefaultValueFactory = _ => 3 };
        var rate = new Option<double?>("--rate") { Description = "open loop: arrivals per second (latency from each scheduled start)" };
        var theta = new Option<double?>("--theta") { Description = "Zipfian skew of keys (0 = uniform; default 0.99, causal 1.0)" };
        var batchSize = new Option<int>("--batch-size") { Description = "a batch closes when the pipeline has room, or at this many requests…", DefaultValueFactory = _ => 1000 };
        var batchDelay = new Option<double>("--batch-delay-ms") { Description = "…or, if the pipeline has room, this many milliseconds after its first request (a backstop: while the pipeline is full a batch keeps gathering)", DefaultValueFactory = _ => 2 };
        var transport = new Option<string>("--transport") { Description = "how the driver and the workers exchange messages and one-sided operations: inproc (by reference, the default) | inproc-serialising (every one through the wire codec: what crossing a process would cost in encoding alone) | tcp (worker processes over TCP, one-sided operations served by their network layer) | shm (worker processes on this host: Unix sockets and memory-mapped regions); a comma list runs each, side by side", DefaultValueFactory = _ => driver ? "tcp" : "inproc" };
        var processes = new Option<int?>("--processes") { Description = "with --transport tcp or shm: start this many worker processes on this host (one worker each; --workers follows) and stop them after the run" };
        var clusterFile = new Option<string?>("--cluster") { Description = "with --transport tcp or shm: the cluster map of workers started by hand (`leasehold worker`); this process is its driver", Required = driver };
        var keyFile = new Option<string?>("--key-file") { Description = "the cluster key of --cluster's workers", Required = driver };
        var pipelineDepth = new Option<int>("--pipeline-depth") { Description = "batches executing or committing at once; while it is full, arrivals gather into the next batch", DefaultValueFactory = _ => 2 };
        var remoteOp = new Option<double>("--remote-op-us") { Description = "waiting time per one-sided memory operation (7 ≈ RDMA, 50 ≈ TCP)", DefaultValueFactory = _ => 0 };
        var link = new Option<double?>("--link-us") { Description = "waiting time per message between nodes (default: --remote-op-us)" };
        var seed = new Option<int>("--seed") { Description = "seed of the request generators", DefaultValueFactory = _ => 1 };
        var keys = new Option<int?>("--keys") { Description = "accounts (banking, default 100000), keys (micro, default 20000), active keys (list-append, default 10) or ring size (cycle, default 16)" };
        var appendsPerKey = new Option<int>("--appends-per-key") { Description = "list-append: appends a key takes before a fresh key replaces it", DefaultValueFactory = _ => 16 };
        var history = new Option<string?>("--history") { Description = "list-append: record the history to this file (JSON lines, Jepsen's shape) for `leasehold check`" };
        var length = new Option<int>("--length") { Description = "micro: functions per transaction, one key each", DefaultValueFactory = _ => 2 };
        var readOnly = new Option<double>("--read-only") { Description = "micro: share of read-only transactions", DefaultValueFactory = _ => 0 };
        var routing = new Option<string>("--routing") { Description = "summed (the paper's score) | voting (per-key voting)", DefaultValueFactory = _ => "summed" };
        routing.AcceptOnlyFromAmong("summed", "voting");
        var affinityWeight = new Option<double>("--affinity-weight") { Description = "routing weight of affinity", DefaultValueFactory = _ => 1 };
        var loadWeight = new Option<double>("--load-weight") { Description = "routing weight of load", DefaultValueFactory = _ => 1 };
        var gating = new Option<string>("--gating") { Description = "strict (writes wait until nothing can fail: atomic under bugs) | declared (wait only for MayAbort functions, §6); a comma list runs each", DefaultValueFactory = _ => "strict" };
        var rounds = new Option<int>("--rounds") { Description = "with several protocols or gatings: alternate them this many times", DefaultValueFactory = _ => 1 };
        var json = new Option<string?>("--json") { Description = "write the result as one JSON object to this file" };
        var quiet = new Option<bool>("--quiet") { Description = "no live progress bar (drawn on stderr only when it is a terminal)" };

        var command = new Command(name, description)
        {
            processes, clusterFile, keyFile,
            mode, workload, protocol, store, durability, cacheCapacity, linkLatency, noEager, noSessions, transactions, virtualTime, serviceUs, functionUs, workers, executors, clients, duration, minCommitted, warmup, rate, theta, batchSize, batchDelay, pipelineDepth, transport,
            remoteOp, link, seed, keys, appendsPerKey, history, length, readOnly, routing, gating, rounds, affinityWeight, loadWeight, json, quiet,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            if (parse.GetValue(mode) == "causal")
            {
                const string serializableOnly = "--mode serializable";
                bool media = parse.GetValue(workload) == "media";
                string? notCausal = parse.GetValue(rate) is not null ? "--rate: the causal bench runs closed loop only"
                    : parse.GetValue(store) is { } st && Stores.StoreSpec.SplitList(st).Count > 1 ? "--store: the causal bench runs one store at a time"
                    : IgnoredFlags.Find(parse,
                        (executors, false, serializableOnly), (batchSize, false, serializableOnly), (batchDelay, false, serializableOnly), (pipelineDepth, false, serializableOnly),
                        (remoteOp, false, serializableOnly + " (the causal mode has --link-latency-us)"), (routing, false, serializableOnly),
                        (affinityWeight, false, serializableOnly), (loadWeight, false, serializableOnly), (gating, false, serializableOnly),
                        (readOnly, false, serializableOnly), (appendsPerKey, false, serializableOnly), (minCommitted, false, serializableOnly),
                        (serviceUs, parse.GetValue(virtualTime), "--virtual (the modelled processors)"),
                        (functionUs, parse.GetValue(virtualTime), "--virtual (the modelled processors)"),
                        (keys, !media, "--workload causal-micro (media has its own data set)"),
                        (length, !media, "--workload causal-micro (media's workflows have fixed shapes)"));
                if (notCausal is not null)
                {
                    Console.Error.WriteLine($"leasehold bench: {notCausal}");
                    return ExitCodes.Usage;
                }
                var causalProtocols = ParseList(parse.GetValue(protocol) ?? "causalmesh", "--protocol",
                    Enum.GetValues<Runtime.Causal.CausalProtocol>().ToDictionary(Causal.CausalBenchSettings.NameOf));
                int causalRounds = parse.GetValue(rounds);
                var causalTransports = ParseBenchTransports(parse.GetValue(transport)!);
                string? causalError = causalProtocols.Error ?? causalTransports.Error ?? (causalRounds is < 1 or > 100 ? $"--rounds must be in 1..100, not {causalRounds}" : null);
                if (causalError is not null)
                {
                    Console.Error.WriteLine($"leasehold bench: {causalError}");
                    return ExitCodes.Usage;
                }
                var causal = new Causal.CausalBenchSettings
                {
                    Workload = parse.GetValue(workload) ?? "causal-micro",
                    Workers = parse.GetValue(workers),
                    Clients = parse.GetValue(clients),
                    DurationSeconds = parse.GetValue(duration),
                    WarmupSeconds = parse.GetValue(warmup),
                    Theta = parse.GetValue(theta) ?? 1.0,
                    Keys = parse.GetValue(keys) ?? 100_000,
                    Length = parse.GetResult(length) is { Implicit: false } ? parse.GetValue(length) : 3,
                    LinkLatencyUs = parse.GetValue(linkLatency) ?? parse.GetValue(link) ?? 0,
                    EagerIntegration = !parse.GetValue(noEager),
                    Sessions = !parse.GetValue(noSessions),
                    Transactions = parse.GetValue(transactions),
                    Virtual = parse.GetValue(virtualTime),
                    MessageServiceUs = parse.GetValue(serviceUs),
                    FunctionServiceUs = parse.GetValue(functionUs),
                    Seed = parse.GetValue(seed),
                    Store = parse.GetValue(store) ?? "memory",
                    Durability = parse.GetValue(durability) switch
                    {
                        "write-behind" => Runtime.Causal.CausalDurability.WriteBehind,
                        "sync" => Runtime.Causal.CausalDurability.Synchronous,
                        _ => Runtime.Causal.CausalDurability.None,
                    },
                    Capacity = parse.GetValue(cacheCapacity),
                    JsonPath = parse.GetValue(json),
                    HistoryPath = parse.GetValue(history),
                    Quiet = parse.GetValue(quiet),
                    Processes = parse.GetValue(processes),
                    ClusterFile = parse.GetValue(clusterFile),
                    KeyFile = parse.GetValue(keyFile),
                };
                if (causal.Processes is { } causalProcesses)
                {
                    if (parse.GetResult(workers) is { Implicit: false } && causal.Workers != causalProcesses)
                    {
                        Console.Error.WriteLine($"leasehold bench: --processes {causalProcesses} starts one worker (and its cache server) per process, but --workers is {causal.Workers}: give one of them");
                        return ExitCodes.Usage;
                    }
                    causal = causal with { Workers = causalProcesses };
                }
                var causalVariants = new List<Causal.CausalBenchSettings>();
                for (int r = 0; r < causalRounds; r++)
                    foreach (var p in causalProtocols.Values)
                        foreach (var t in causalTransports.Values)
                            // Side by side (--transport inproc,tcp --processes 3), the in-process variant starts no workers.
                            causalVariants.Add(t.Links is null && causalTransports.Values.Count > 1
                                ? causal with { Protocol = p, Transport = t.Kind, Links = null, Processes = null, ClusterFile = null, KeyFile = null }
                                : causal with { Protocol = p, Transport = t.Kind, Links = t.Links });
                return await Causal.CausalBench.RunAsync(causalVariants, cancellation);
            }
            if (parse.GetValue(linkLatency) is not null || parse.GetValue(noEager) || parse.GetValue(noSessions) || parse.GetValue(transactions) || parse.GetValue(virtualTime)
                || parse.GetResult(durability) is { Implicit: false } || parse.GetResult(cacheCapacity) is { Implicit: false }
                || parse.GetResult(serviceUs) is { Implicit: false } || parse.GetResult(functionUs) is { Implicit: false })
            {
                Console.Error.WriteLine("leasehold bench: --link-latency-us, --no-eager, --no-sessions, --transactions, --virtual, --service-us, --function-us, --durability and --cache-capacity apply to --mode causal (the serializable mode has --link-us)");
                return ExitCodes.Usage;
            }
            if (parse.GetValue(workload) is "causal-micro" or "media")
            {
                Console.Error.WriteLine($"leasehold bench: --workload {parse.GetValue(workload)} is a causal workload: add --mode causal");
                return ExitCodes.Usage;
            }
            string chosen = parse.GetValue(workload) ?? "banking";
            if (IgnoredFlags.Find(parse,
                    (length, chosen == "micro", "--workload micro (and --mode causal)"),
                    (readOnly, chosen == "micro", "--workload micro"),
                    (appendsPerKey, chosen == "list-append", "--workload list-append"),
                    (theta, chosen is "banking" or "micro", "the workloads that pick keys by Zipf: banking and micro (and --mode causal)"),
                    (clients, parse.GetValue(rate) is null, "the closed loop; --rate runs an open loop, whose arrivals do not wait for clients"))
                is { } ignored)
            {
                Console.Error.WriteLine($"leasehold bench: {ignored}");
                return ExitCodes.Usage;
            }
            var settings = new BenchSettings
            {
                Workload = parse.GetValue(workload) ?? "banking",
                Theta = parse.GetValue(theta) ?? 0.99,
                Store = parse.GetValue(store) ?? "rocksdb",
                Workers = parse.GetValue(workers),
                Executors = parse.GetValue(executors),
                Clients = parse.GetValue(clients),
                DurationSeconds = parse.GetValue(duration),
                WarmupSeconds = parse.GetValue(warmup),
                Rate = parse.GetValue(rate),
                BatchSize = parse.GetValue(batchSize),
                BatchDelayMs = parse.GetValue(batchDelay),
                PipelineDepth = parse.GetValue(pipelineDepth),
                RemoteOpUs = parse.GetValue(remoteOp),
                LinkUs = parse.GetValue(link),
                Seed = parse.GetValue(seed),
                Keys = parse.GetValue(keys),
                Length = parse.GetValue(length),
                ReadOnlyShare = parse.GetValue(readOnly),
                Routing = parse.GetValue(routing) == "voting" ? RoutingPolicy.PerKeyVoting : RoutingPolicy.SummedScore,
                AffinityWeight = parse.GetValue(affinityWeight),
                LoadWeight = parse.GetValue(loadWeight),
                JsonPath = parse.GetValue(json),
                HistoryPath = parse.GetValue(history),
                AppendsPerKey = parse.GetValue(appendsPerKey),
                Quiet = parse.GetValue(quiet),
                MinCommitted = parse.GetValue(minCommitted),
                Processes = parse.GetValue(processes),
                ClusterFile = parse.GetValue(clusterFile),
                KeyFile = parse.GetValue(keyFile),
            };
            if (settings.Processes is { } n)
            {
                if (parse.GetResult(workers) is { Implicit: false } && settings.Workers != n)
                {
                    Console.Error.WriteLine($"leasehold bench: --processes {n} starts one worker per process, but --workers is {settings.Workers}: give one of them");
                    return ExitCodes.Usage;
                }
                settings = settings with { Workers = n };
            }
            var protocols = ParseList(parse.GetValue(protocol) ?? "lease", "--protocol", new Dictionary<string, ProtocolKind> { ["lease"] = ProtocolKind.Lease, ["nocc"] = ProtocolKind.NoCC });
            var gatings = ParseList(parse.GetValue(gating)!, "--gating", new Dictionary<string, WriteGating> { ["strict"] = WriteGating.Strict, ["declared"] = WriteGating.DeclaredAborts });
            var transports = ParseBenchTransports(parse.GetValue(transport)!);
            int roundCount = parse.GetValue(rounds);
            string? error = protocols.Error ?? gatings.Error ?? transports.Error ?? (roundCount is < 1 or > 100 ? $"--rounds must be in 1..100, not {roundCount}" : null);
            if (error is not null)
            {
                Console.Error.WriteLine($"leasehold bench: {error}");
                return ExitCodes.Usage;
            }
            var variants = new List<BenchSettings>();
            var stores = Stores.StoreSpec.SplitList(settings.Store);
            for (int r = 0; r < roundCount; r++)
                foreach (var st in stores)
                    foreach (var p in protocols.Values)
                        foreach (var g in gatings.Values)
                            foreach (var t in transports.Values)
                                // An in-process run beside process runs (--transport inproc,tcp --processes 3) ignores the process flags.
                                variants.Add(t.Links is null && transports.Values.Any(v => v.Links is not null)
                                    ? settings with { Protocol = p, Gating = g, Store = st, Transport = t.Kind, Links = null, Processes = null, ClusterFile = null, KeyFile = null }
                                    : settings with { Protocol = p, Gating = g, Store = st, Transport = t.Kind, Links = t.Links });
            return await RunAsync(variants, cancellation);
        });
        return command;
    }

    /// <summary>The bench's transports (either mode): in process (a kind), or worker processes over links.</summary>
    private static (List<(TransportKind Kind, ProcessLinkKind? Links)> Values, string? Error) ParseBenchTransports(string text) =>
        ParseList(text, "--transport", new Dictionary<string, (TransportKind, ProcessLinkKind?)>
        {
            ["inproc"] = (TransportKind.Inproc, null),
            ["inproc-serialising"] = (TransportKind.InprocSerialising, null),
            ["tcp"] = (TransportKind.Inproc, ProcessLinkKind.Tcp),
            ["shm"] = (TransportKind.Inproc, ProcessLinkKind.Shm),
        });

    private static (List<T> Values, string? Error) ParseList<T>(string text, string flag, Dictionary<string, T> names)
    {
        var values = new List<T>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!names.TryGetValue(part, out var value))
                return (values, $"{flag}: '{part}' is not one of {string.Join(", ", names.Keys)}");
            if (!values.Contains(value)) values.Add(value);
        }
        return (values, null);
    }

    /// <summary>Runs each variant in turn in this process and, when there are several, prints them side by side with ratios.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<BenchSettings> variants, CancellationToken cancellation)
    {
        var settings = variants[0];
        foreach (var v in variants)
            if (v.Problem() is { } problem)
            {
                Console.Error.WriteLine($"leasehold bench: {problem}");
                return ExitCodes.Usage;
            }
        if (settings.JsonPath is { } path && JsonPathProblem(path) is { } jsonProblem)
        {
            Console.Error.WriteLine($"leasehold bench: --json: {jsonProblem}");
            return ExitCodes.Usage;
        }
        if (settings.HistoryPath is { } historyPath && JsonPathProblem(historyPath) is { } historyProblem)
        {
            Console.Error.WriteLine($"leasehold bench: --history: {historyProblem}");
            return ExitCodes.Usage;
        }
        if (settings.HistoryPath is not null && variants.Count > 1)
        {
            Console.Error.WriteLine("leasehold bench: --history records one run; give one --protocol and one --gating");
            return ExitCodes.Usage;
        }
        bool live = !settings.Quiet && !Console.IsErrorRedirected;
        var results = new List<BenchResult>();
        int exit = ExitCodes.Ok;
        foreach (var variant in variants)
        {
            BenchResult result;
            try
            {
                result = await BenchProgress.RunAsync(live, Name(variant), variant.WarmupSeconds + variant.DurationSeconds,
                    progress => new BenchRunner(variant, progress).RunAsync(cancellation));
            }
            catch (UsageException e)
            {
                Console.Error.WriteLine($"leasehold bench: {e.Message}");
                return ExitCodes.Usage;
            }
            catch (Runtime.Storage.StoreUnavailableException e)
            {
                Console.Error.WriteLine($"leasehold bench: --store {Stores.StoreSpec.Redact(variant.Store)}: {e.Message}");
                return ExitCodes.Usage;
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
                Console.Error.WriteLine($"leasehold bench: {Name(variant)}: {e.Message}");
                return ExitCodes.Failure;
            }
            results.Add(result);
            PrintSummary(result);
            if (!result.Invariant.Ok)
            {
                if (variant.Protocol == ProtocolKind.Lease)
                {
                    Console.Error.WriteLine($"leasehold bench: INVARIANT BROKEN under the lease protocol: {result.Invariant.Detail}");
                    exit = ExitCodes.Failure;
                }
                else Console.Error.WriteLine("leasehold bench: the invariant broke under nocc, which has no concurrency control (expected)");
            }
            if (result.Checker is { Result.Valid: false })
            {
                if (variant.Protocol == ProtocolKind.Lease)
                {
                    Console.Error.WriteLine("leasehold bench: the history checker found ANOMALIES under the lease protocol");
                    exit = ExitCodes.Failure;
                }
                else Console.Error.WriteLine("leasehold bench: the history checker found anomalies under nocc, which has no concurrency control (expected)");
            }
        }
        if (results.Count > 1) PrintComparison(results);
        if (settings.JsonPath is { } jsonPath)
        {
            await using var file = File.Create(jsonPath);
            if (results.Count == 1) results[0].WriteJson(file);
            else BenchResult.WriteJsonArray(file, results);
        }
        return exit;
    }

    /// <summary>Checked before the run, so a bad path cannot throw away a finished benchmark.</summary>
    internal static string? JsonPathProblem(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) return "needs a file name";
        string full;
        try { full = Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException) { return $"'{path}' is not a valid path: {e.Message}"; }
        if (Directory.Exists(full)) return $"'{path}' is a directory, not a file";
        if (Path.GetDirectoryName(full) is { } dir && !Directory.Exists(dir)) return $"directory '{dir}' does not exist";
        try
        {
            using var probe = new FileStream(full, FileMode.Append, FileAccess.Write);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return $"cannot write '{path}': {e.Message}"; }
        return null;
    }

    private static string Name(BenchSettings s) =>
        (s.Protocol == ProtocolKind.Lease ? "lease" : "nocc") + (s.Gating == WriteGating.Strict ? "" : "/declared") +
        (s.Store == "memory" ? "" : "@" + Stores.StoreSpec.Parse(s.Store).Spec?.Engine) +
        (s.Transport == TransportKind.Inproc ? "" : "/codec") + // inproc-serialising: every message through the codec
        (s.Links switch { ProcessLinkKind.Tcp => "/tcp", ProcessLinkKind.Shm => "/shm", _ => "" });

    private static void PrintComparison(List<BenchResult> results)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]side by side[/] (ratio: throughput over the first row's)");
        foreach (var c in new[] { "run", "committed/s", "p50 ms", "p90 ms", "p99 ms", "invariant", "ratio" }) table.AddColumn(new TableColumn(c).RightAligned());
        double first = results[0].ThroughputTps;
        foreach (var r in results)
            table.AddRow(Name(r.Settings), $"{r.ThroughputTps:N0}", $"{r.P50Ms:F2}", $"{r.P90Ms:F2}", $"{r.P99Ms:F2}",
                r.Correct ? "holds" : "BROKEN", first > 0 ? $"{r.ThroughputTps / first:F2}" : "-");
        AnsiConsole.Write(table);
    }

    private static void PrintSummary(BenchResult r)
    {
        var s = r.Settings;
        string where = s.Links switch { ProcessLinkKind.Tcp => " (worker processes over tcp)", ProcessLinkKind.Shm => " (worker processes over shm)", _ => "" };
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{s.Workload}[/] · {(s.Protocol == ProtocolKind.Lease ? "lease" : "nocc")} · {s.Workers} workers{where} × {s.Executors} executors · {(s.Rate is { } rate ? $"open loop {rate:N0}/s" : $"{s.Clients} clients")}");
        table.AddColumn("metric");
        table.AddColumn(new TableColumn("value").RightAligned());
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("throughput (committed/s)", $"{r.ThroughputTps:N0}");
        Row("latency p50 / p90 / p99 / max (ms)", $"{r.P50Ms:F2} / {r.P90Ms:F2} / {r.P99Ms:F2} / {r.MaxMs:F2}");
        Row("submitted / committed", $"{r.Submitted:N0} / {r.Committed:N0}");
        Row("aborted / failed / rejected / unknown", $"{r.Aborted:N0} / {r.Failed:N0} / {r.Rejected:N0} / {r.Unknown:N0}");
        Row("remote one-sided ops", $"{r.RemoteOps:N0}");
        if (r.WireBytesPerTxn is { } wire) Row("bytes on the wire per txn (all links, whole run)", $"{wire:N0}");
        if (r.WorkersReported is { } reported && reported < s.Workers) Row("worker processes that reported (counters below cover these)", $"{reported} of {s.Workers}");
        Row("lease transfers", $"{r.LeaseTransfers:N0}");
        Row("local ratio", $"{r.LocalRatio:P1}");
        Row("batches committed", $"{r.BatchesCommitted:N0}");
        Row("peak working set (MiB)", $"{r.PeakWorkingSetMb:N0}");
        Row("allocated per txn (bytes)", $"{r.AllocBytesPerTxn:N0}");
        Row("mailbox posts / wake-ups per txn", $"{r.PostsPerTxn:F2} / {r.WakeupsPerTxn:F2}");
        Row("CPU per txn (µs)", $"{r.CpuUsPerTxn:F1}");
        if (r.CpuUsPerTxnAllProcesses is { } all && r.Settings.Links is not null) Row("CPU per txn, every process (µs)", $"{all:F1}");
        Row("workflows per batch", $"{r.TxnPerBatch:F1}");
        Row("batch logging / executing / committing (ms)", $"{r.BatchPhaseMs[0]:F2} / {r.BatchPhaseMs[1]:F2} / {r.BatchPhaseMs[2]:F2}");
        if (r.SyncsPerBatch is { } syncs) Row("synced writes per batch", $"{syncs:F2}");
        table.AddRow(new Markup("invariant"), SummaryRows.Invariant(r.Invariant));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(r.Invariant.Detail)}[/]");
        SummaryRows.WriteGlossaryPointer();
        if (r.Checker is { } c)
        {
            var x = c.Result;
            string found = string.Join(", ", x.Counts.Where(k => k.Value > 0).Select(k => $"{k.Key} {k.Value:N0}"));
            AnsiConsole.MarkupLine(x.Valid
                ? $"history checker: [green]valid[/] (strict serializability) over {x.Committed + x.Failed + x.Unknown:N0} transactions, {x.GraphEdges:N0} edges, in {c.Seconds:F1} s"
                : $"history checker: [red]INVALID[/]: {Markup.Escape(found)}");
            if (!x.Valid && x.Examples.Count > 0) Console.WriteLine($"  first: {x.Examples[0].Kind}: {x.Examples[0].Explanation}");
            if (c.HistoryPath is not null) AnsiConsole.MarkupLine($"[grey]history: {Markup.Escape(c.HistoryPath)} (leasehold check --strict {Markup.Escape(c.HistoryPath)})[/]");
        }
    }
}
