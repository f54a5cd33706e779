using System.CommandLine;
using Leasehold.Runtime.Serializable;
using Spectre.Console;

namespace Leasehold.Cli.Bench;

/// <summary>`leasehold bench`: flags, validation, the live progress line, the summary table and the JSON file.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var workload = new Option<string>("--workload") { Description = "banking | micro", DefaultValueFactory = _ => "banking" };
        workload.AcceptOnlyFromAmong("banking", "micro");
        var protocol = new Option<string>("--protocol") { Description = "lease (the RTSFaaS protocol) | nocc (no concurrency control: unsafe upper bound)", DefaultValueFactory = _ => "lease" };
        protocol.AcceptOnlyFromAmong("lease", "nocc");
        var store = new Option<string>("--store") { Description = "state store engine (memory)", DefaultValueFactory = _ => "memory" };
        var workers = new Option<int>("--workers") { Description = "workers in the in-process cluster", DefaultValueFactory = _ => 4 };
        var executors = new Option<int>("--executors") { Description = "executors per worker", DefaultValueFactory = _ => 2 };
        var clients = new Option<int>("--clients") { Description = "closed loop: requests kept outstanding", DefaultValueFactory = _ => 64 };
        var duration = new Option<double>("--duration") { Description = "measured seconds", DefaultValueFactory = _ => 10 };
        var warmup = new Option<double>("--warmup") { Description = "seconds run before measuring", DefaultValueFactory = _ => 1 };
        var rate = new Option<double?>("--rate") { Description = "open loop: arrivals per second (latency from each scheduled start)" };
        var theta = new Option<double>("--theta") { Description = "Zipfian skew of keys (0 = uniform)", DefaultValueFactory = _ => 0.99 };
        var batchSize = new Option<int>("--batch-size") { Description = "a batch closes at this many requests…", DefaultValueFactory = _ => 1000 };
        var batchDelay = new Option<double>("--batch-delay-ms") { Description = "…or this many milliseconds after its first request", DefaultValueFactory = _ => 2 };
        var remoteOp = new Option<double>("--remote-op-us") { Description = "waiting time per one-sided memory operation (7 ≈ RDMA, 50 ≈ TCP)", DefaultValueFactory = _ => 0 };
        var link = new Option<double?>("--link-us") { Description = "waiting time per message between nodes (default: --remote-op-us)" };
        var seed = new Option<int>("--seed") { Description = "seed of the request generators", DefaultValueFactory = _ => 1 };
        var keys = new Option<int?>("--keys") { Description = "accounts (banking, default 100000) or keys (micro, default 20000)" };
        var length = new Option<int>("--length") { Description = "micro: functions per transaction, one key each", DefaultValueFactory = _ => 2 };
        var readOnly = new Option<double>("--read-only") { Description = "micro: share of read-only transactions", DefaultValueFactory = _ => 0 };
        var routing = new Option<string>("--routing") { Description = "summed (the paper's score) | voting (per-key voting)", DefaultValueFactory = _ => "summed" };
        routing.AcceptOnlyFromAmong("summed", "voting");
        var affinityWeight = new Option<double>("--affinity-weight") { Description = "routing weight of affinity", DefaultValueFactory = _ => 1 };
        var loadWeight = new Option<double>("--load-weight") { Description = "routing weight of load", DefaultValueFactory = _ => 1 };
        var gating = new Option<string>("--gating") { Description = "strict (writes wait until nothing can fail: atomic under bugs) | declared (wait only for MayAbort functions, §6)", DefaultValueFactory = _ => "strict" };
        gating.AcceptOnlyFromAmong("strict", "declared");
        var json = new Option<string?>("--json") { Description = "write the result as one JSON object to this file" };
        var quiet = new Option<bool>("--quiet") { Description = "no live progress line" };

        var command = new Command("bench", "Run a workload on an in-process cluster and report throughput, latency and the workload's invariant")
        {
            workload, protocol, store, workers, executors, clients, duration, warmup, rate, theta, batchSize, batchDelay,
            remoteOp, link, seed, keys, length, readOnly, routing, gating, affinityWeight, loadWeight, json, quiet,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = new BenchSettings
            {
                Workload = parse.GetValue(workload)!,
                Protocol = parse.GetValue(protocol) == "nocc" ? ProtocolKind.NoCC : ProtocolKind.Lease,
                Store = parse.GetValue(store)!,
                Workers = parse.GetValue(workers),
                Executors = parse.GetValue(executors),
                Clients = parse.GetValue(clients),
                DurationSeconds = parse.GetValue(duration),
                WarmupSeconds = parse.GetValue(warmup),
                Rate = parse.GetValue(rate),
                Theta = parse.GetValue(theta),
                BatchSize = parse.GetValue(batchSize),
                BatchDelayMs = parse.GetValue(batchDelay),
                RemoteOpUs = parse.GetValue(remoteOp),
                LinkUs = parse.GetValue(link),
                Seed = parse.GetValue(seed),
                Keys = parse.GetValue(keys),
                Length = parse.GetValue(length),
                ReadOnlyShare = parse.GetValue(readOnly),
                Routing = parse.GetValue(routing) == "voting" ? RoutingPolicy.PerKeyVoting : RoutingPolicy.SummedScore,
                Gating = parse.GetValue(gating) == "declared" ? WriteGating.DeclaredAborts : WriteGating.Strict,
                AffinityWeight = parse.GetValue(affinityWeight),
                LoadWeight = parse.GetValue(loadWeight),
                JsonPath = parse.GetValue(json),
                Quiet = parse.GetValue(quiet),
            };
            return await RunAsync(settings, cancellation);
        });
        return command;
    }

    public static async Task<int> RunAsync(BenchSettings settings, CancellationToken cancellation)
    {
        if (settings.Problem() is { } problem)
        {
            Console.Error.WriteLine($"leasehold bench: {problem}");
            return ExitCodes.Usage;
        }
        if (settings.JsonPath is { } path && Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir && !Directory.Exists(dir))
        {
            Console.Error.WriteLine($"leasehold bench: --json: directory '{dir}' does not exist");
            return ExitCodes.Usage;
        }
        bool live = !settings.Quiet && !Console.IsErrorRedirected;
        var runner = new BenchRunner(settings, line => { if (live) Console.Error.Write($"\r{line}\u001b[K"); });
        BenchResult result;
        try
        {
            result = await runner.RunAsync(cancellation);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            if (live) Console.Error.WriteLine();
            Console.Error.WriteLine($"leasehold bench: {e.Message}");
            return ExitCodes.Failure;
        }
        if (live) Console.Error.WriteLine();
        PrintSummary(result);
        if (settings.JsonPath is { } jsonPath)
        {
            await using var file = File.Create(jsonPath);
            result.WriteJson(file);
        }
        if (!result.Invariant.Ok)
        {
            if (settings.Protocol == ProtocolKind.Lease)
            {
                Console.Error.WriteLine($"leasehold bench: INVARIANT BROKEN under the lease protocol: {result.Invariant.Detail}");
                return ExitCodes.Failure;
            }
            Console.Error.WriteLine("leasehold bench: the invariant broke under nocc, which has no concurrency control (expected)");
        }
        return ExitCodes.Ok;
    }

    private static void PrintSummary(BenchResult r)
    {
        var s = r.Settings;
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{s.Workload}[/] · {(s.Protocol == ProtocolKind.Lease ? "lease" : "nocc")} · {s.Workers} workers × {s.Executors} executors · {(s.Rate is { } rate ? $"open loop {rate:N0}/s" : $"{s.Clients} clients")}");
        table.AddColumn("metric");
        table.AddColumn(new TableColumn("value").RightAligned());
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("throughput (committed/s)", $"{r.ThroughputTps:N0}");
        Row("latency p50 / p90 / p99 / max (ms)", $"{r.P50Ms:F2} / {r.P90Ms:F2} / {r.P99Ms:F2} / {r.MaxMs:F2}");
        Row("submitted / committed", $"{r.Submitted:N0} / {r.Committed:N0}");
        Row("aborted / failed / rejected", $"{r.Aborted:N0} / {r.Failed:N0} / {r.Rejected:N0}");
        Row("remote one-sided ops", $"{r.RemoteOps:N0}");
        Row("lease transfers", $"{r.LeaseTransfers:N0}");
        Row("local ratio", $"{r.LocalRatio:P1}");
        Row("batches committed", $"{r.BatchesCommitted:N0}");
        Row("peak working set (MiB)", $"{r.PeakWorkingSetMb:N0}");
        Row("allocated per txn (bytes)", $"{r.AllocBytesPerTxn:N0}");
        table.AddRow(new Markup("invariant"), new Markup(r.Invariant.Ok ? $"[green]holds[/] ({Markup.Escape(r.Invariant.Name)})" : $"[red]BROKEN[/] ({Markup.Escape(r.Invariant.Name)})"));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(r.Invariant.Detail)}[/]");
    }
}
