using System.Text.Json;
using Spectre.Console;

namespace Leasehold.Cli.Bench.Causal;

/// <summary>`leasehold bench --mode causal`: runs each variant in turn in this process, prints each, and side by side with ratios when there are several.</summary>
internal static class CausalBench
{
    public static async Task<int> RunAsync(IReadOnlyList<CausalBenchSettings> variants, CancellationToken cancellation)
    {
        foreach (var v in variants)
            if (v.Problem() is { } problem)
            {
                Console.Error.WriteLine($"leasehold bench: {problem}");
                return ExitCodes.Usage;
            }
        var first = variants[0];
        if (first.HistoryPath is not null && variants.Count > 1)
        {
            Console.Error.WriteLine("leasehold bench: --history records one run; give one --protocol and --rounds 1");
            return ExitCodes.Usage;
        }
        foreach (var (flag, file) in new[] { ("--json", first.JsonPath), ("--history", first.HistoryPath) })
            if (file is not null && BenchCommand.JsonPathProblem(file) is { } fileProblem)
            {
                Console.Error.WriteLine($"leasehold bench: {flag}: {fileProblem}");
                return ExitCodes.Usage;
            }
        bool live = !first.Quiet && !Console.IsErrorRedirected;
        var results = new List<CausalBenchResult>();
        int exit = ExitCodes.Ok;
        foreach (var variant in variants)
        {
            string name = RunName(variant);
            var history = variant.HistoryPath is { } path ? new CausalHistoryWriter(path) : null;
            CausalBenchResult result;
            try
            {
                result = await BenchProgress.RunAsync(live, name, variant.WarmupSeconds + variant.DurationSeconds, progress => variant.Virtual
                    ? Task.FromResult(new CausalVirtualRunner(variant, progress).Run(history))
                    : new CausalBenchRunner(variant, progress).RunAsync(history, cancellation));
            }
            catch (Runtime.Storage.StoreUnavailableException e)
            {
                Console.Error.WriteLine($"leasehold bench: --store {Stores.StoreSpec.Redact(variant.Store)}: {e.Message}");
                return ExitCodes.Usage;
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
                Console.Error.WriteLine($"leasehold bench: {name}: {e.Message}");
                return ExitCodes.Failure;
            }
            finally
            {
                history?.Dispose();
            }
            if (history is not null) result = result with { Checker = Check(history.Path) };
            results.Add(result);
            PrintSummary(result, history);
            if (result.Checker is { Valid: false })
            {
                if (variant.Protocol == Runtime.Causal.CausalProtocol.CausalMesh)
                {
                    Console.Error.WriteLine("leasehold bench: the causal checker found VIOLATIONS under causalmesh");
                    exit = ExitCodes.Failure;
                }
                else Console.Error.WriteLine($"leasehold bench: the causal checker found violations under {name}, which is not causal (expected)");
            }
            if (!result.Invariant.Ok)
            {
                if (variant.Protocol == Runtime.Causal.CausalProtocol.CausalMesh)
                {
                    Console.Error.WriteLine($"leasehold bench: INVARIANT BROKEN under causalmesh: {result.Invariant.Detail}");
                    exit = ExitCodes.Failure;
                }
                else Console.Error.WriteLine($"leasehold bench: the invariant broke under {name}, which is not causal (expected)");
            }
        }
        if (results.Count > 1) PrintComparison(results);
        if (first.JsonPath is { } jsonPath)
        {
            await using var file = File.Create(jsonPath);
            using var w = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
            if (results.Count > 1) w.WriteStartArray();
            foreach (var r in results) r.Write(w);
            if (results.Count > 1) w.WriteEndArray();
        }
        return exit;
    }

    /// <summary>The recorded history against causal consistency with convergence, the guarantee CausalMesh claims.</summary>
    private static (bool Valid, long Workflows, double Seconds, IReadOnlyDictionary<string, long> Counts) Check(string path)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = new Checkers.Causal.CausalChecker(new Checkers.Causal.CausalCheckerOptions { Convergence = true }).Check(new Checkers.Causal.CausalFileHistory(path));
        return (result.Valid, result.Workflows, clock.Elapsed.TotalSeconds, result.Counts);
    }

    private static void PrintSummary(CausalBenchResult r, CausalHistoryWriter? history)
    {
        var s = r.Settings;
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]{s.Workload}[/] · {CausalBenchSettings.NameOf(s.Protocol)} · {s.Workers} servers · {s.Clients} clients · link {s.LinkLatencyUs:G} µs{(s.Virtual ? " · virtual time" : "")}{(s.Links is { } links ? $" · {s.Workers} worker processes over {(links == Processes.ProcessLinkKind.Shm ? "shm" : "tcp")}" : "")}"
                + (s.Durability == Runtime.Causal.CausalDurability.None ? "" : $" · {Markup.Escape(Stores.StoreSpec.Parse(s.Store).Spec?.Engine ?? s.Store)} {CausalBenchSettings.NameOf(s.Durability)}"));
        table.AddColumn("metric");
        table.AddColumn(new TableColumn("value").RightAligned());
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("throughput (workflows/s)", $"{r.ThroughputTps:N0}");
        Row("latency p50 / p90 / p99 / max (ms)", $"{r.P50Ms:F2} / {r.P90Ms:F2} / {r.P99Ms:F2} / {r.MaxMs:F2}");
        Row("submitted / completed / failed", $"{r.Submitted:N0} / {r.Committed:N0} / {r.Failed:N0}");
        if (r.Settings.Transactions) Row("aborted attempts / workflows retried", $"{r.Aborted:N0} / {r.Retried:N0}");
        Row("ring messages per workflow", r.RingMessagesPerWorkflow is { } ring ? $"{ring:F1}" : "n/a (counted in the worker processes)");
        if (r.Persistence is { } p) Row("store batches / versions written / misses / evictions", $"{p.Batches:N0} / {p.Versions:N0} / {p.Misses:N0} / {p.Evictions:N0}");
        if (r.ServerUtilization is { Length: > 0 } util) Row("modelled server utilization mean / max", $"{Math.Min(1, util.Average()):P0} / {Math.Min(1, util.Max()):P0}");
        else Row("peak working set (MiB)", $"{r.PeakWorkingSetMb:N0}");
        table.AddRow(new Markup("invariant"), SummaryRows.Invariant(r.Invariant));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"[grey]{Markup.Escape(r.Invariant.Detail)}[/]");
        SummaryRows.WriteGlossaryPointer();
        if (r.Checker is { } c)
            AnsiConsole.MarkupLine(c.Valid
                ? $"causal checker: [green]valid[/] (causal consistency with convergence) over {c.Workflows:N0} workflows, in {c.Seconds:F1} s"
                : $"causal checker: [red]INVALID[/]: {Markup.Escape(string.Join(", ", c.Counts.Where(k => k.Value > 0).Select(k => $"{k.Key} {k.Value:N0}")))}");
        if (history is not null)
            AnsiConsole.MarkupLine($"[grey]history: {history.Records:N0} function records in {Markup.Escape(history.Path)} (leasehold check --model causal --convergence {Markup.Escape(history.Path)})[/]");
    }

    /// <summary>A run's name in errors and side by side: the protocol, and how its nodes talk when not by reference in one process.</summary>
    private static string RunName(CausalBenchSettings s) =>
        CausalBenchSettings.NameOf(s.Protocol) +
        (s.Links switch
        {
            Processes.ProcessLinkKind.Tcp => "/tcp",
            Processes.ProcessLinkKind.Shm => "/shm",
            _ => s.Transport == Runtime.Transport.TransportKind.Inproc ? "" : "/codec",
        });

    private static void PrintComparison(List<CausalBenchResult> results)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]side by side[/] (ratio: throughput over the first row's)");
        foreach (var c in new[] { "run", "workflows/s", "p50 ms", "p90 ms", "p99 ms", "ratio" }) table.AddColumn(new TableColumn(c).RightAligned());
        double first = results[0].ThroughputTps;
        foreach (var r in results)
            table.AddRow(RunName(r.Settings), $"{r.ThroughputTps:N0}", $"{r.P50Ms:F2}", $"{r.P90Ms:F2}", $"{r.P99Ms:F2}",
                first > 0 ? $"{r.ThroughputTps / first:F2}" : "-");
        AnsiConsole.Write(table);
    }
}
