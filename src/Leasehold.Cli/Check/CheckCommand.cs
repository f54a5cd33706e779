using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Leasehold.Checkers.Causal;
using Leasehold.Checkers.Histories;
using Leasehold.Checkers.ListAppend;
using Spectre.Console;

namespace Leasehold.Cli.Check;

/// <summary>
/// `leasehold check [--model serializable|causal] [--strict] [--convergence] [--json FILE] FILE`: checks a
/// recorded history — list-append transactions against (strict) serializability, or causal-mode function
/// executions against causal consistency (and convergence). Exit 0 when valid, 1 when anomalies were found,
/// 2 when the input cannot be checked (the message names the line).
/// </summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "a history: JSON lines, one operation (serializable) or one function execution (causal) a line" };
        var strict = new Option<bool>("--strict") { Description = "serializable: add real-time edges, checking strict serializability (the order clients saw)" };
        var convergence = new Option<bool>("--convergence") { Description = "causal: also check convergence (CCv): every session sees concurrent writes of a key in one order" };
        var model = new Option<string>("--model") { Description = "the consistency model: serializable (list-append, after Elle) or causal (Bouajjani et al.'s bad patterns)", DefaultValueFactory = _ => "serializable" };
        model.AcceptOnlyFromAmong("serializable", "causal");
        var examples = new Option<int>("--examples") { Description = "explained anomalies shown per kind", DefaultValueFactory = _ => 3 };
        var json = new Option<string?>("--json") { Description = "also write the verdict as JSON (the bench's \"checker\" object) to this file" };
        var command = new Command("check", "Check a recorded history: isolation anomalies (G0, G1a/b/c, G-single, G2-item, …) or causal violations (thin-air, cyclic CO, stale reads, convergence; for read-write transactions, records with \"txn\":true, fractured, non-snapshot and intermediate reads)")
        {
            file, strict, convergence, model, examples, json,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            int shown = parse.GetValue(examples);
            bool causal = parse.GetValue(model) == "causal";
            if (shown is < 0 or > 1000)
            {
                Console.Error.WriteLine($"leasehold check: --examples must be in 0..1000, not {shown}");
                return ExitCodes.Usage;
            }
            if (causal && parse.GetValue(strict))
            {
                Console.Error.WriteLine("leasehold check: --strict applies to --model serializable; the causal model has no real-time order");
                return ExitCodes.Usage;
            }
            if (!causal && parse.GetValue(convergence))
            {
                Console.Error.WriteLine("leasehold check: --convergence applies to --model causal");
                return ExitCodes.Usage;
            }
            if (!File.Exists(path))
            {
                Console.Error.WriteLine($"leasehold check: {(Directory.Exists(path) ? $"'{path}' is a directory, not a history file" : $"no history file '{path}'")}");
                return ExitCodes.Usage;
            }
            var clock = Stopwatch.StartNew();
            string? spool = null;
            try
            {
                // The list-append checker reads the history more than once, and a history refused by either checker is read
                // again to see whether it was written for the other one; a pipe (/dev/stdin, <(…)) reads empty the second
                // time, so it is copied to a temporary file first.
                spool = SpoolIfNotSeekable(path);
                string readFrom = spool ?? path;
                return causal
                    ? Causal(path, readFrom, new CausalCheckerOptions { Convergence = parse.GetValue(convergence), ExamplesPerKind = Math.Max(shown, 1) }, clock, shown, parse.GetValue(json))
                    : Serializable(path, readFrom, new CheckerOptions { Strict = parse.GetValue(strict), ExamplesPerKind = Math.Max(shown, 1) }, clock, shown, parse.GetValue(json));
            }
            catch (HistoryFormatException e)
            {
                Console.Error.WriteLine($"leasehold check: {path}: {e.Message}{WrongModelHint(spool ?? path, causal)}");
                return ExitCodes.Usage;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"leasehold check: cannot read '{path}': {e.Message}");
                return ExitCodes.Usage;
            }
            finally
            {
                if (spool is not null) File.Delete(spool);
            }
        });
        return command;
    }

    private static int Serializable(string path, string readFrom, CheckerOptions options, Stopwatch clock, int shown, string? json)
    {
        var result = new ListAppendChecker(options).Check(new FileHistory(readFrom));
        if (result.Committed + result.Failed + result.Unknown == 0)
        {
            // Vacuously valid, and so most likely a recorder that wrote nothing: not a verdict to trust.
            Console.Error.WriteLine($"leasehold check: {path}: {Empty(readFrom)}the history holds no transactions, so there is nothing to check");
            return ExitCodes.Usage;
        }
        if (json is not null)
            WriteJson(json, w =>
            {
                // The fields of the bench's "checker" object.
                w.WriteStartObject();
                w.WriteBoolean("ran", true);
                w.WriteString("model", result.Strict ? "strict-serializable" : "serializable");
                w.WriteBoolean("valid", result.Valid);
                w.WriteNumber("transactions", result.Committed + result.Failed + result.Unknown);
                w.WriteNumber("seconds", Math.Round(clock.Elapsed.TotalSeconds, 2));
                w.WriteString("history", path);
                w.WriteStartObject("anomalies");
                foreach (var (kind, count) in result.Counts) w.WriteNumber(kind, count);
                w.WriteEndObject();
                w.WriteEndObject();
            });
        Print(result, path, clock.Elapsed, shown);
        return result.Valid ? ExitCodes.Ok : ExitCodes.Failure;
    }

    private static int Causal(string path, string readFrom, CausalCheckerOptions options, Stopwatch clock, int shown, string? json)
    {
        var result = new CausalChecker(options).Check(new CausalFileHistory(readFrom));
        if (result.Functions == 0)
        {
            Console.Error.WriteLine($"leasehold check: {path}: {Empty(readFrom)}the history holds no function executions, so there is nothing to check");
            return ExitCodes.Usage;
        }
        if (json is not null) WriteJson(json, w => CausalCheckResultJson.Write(w, result, clock.Elapsed.TotalSeconds, path));
        PrintCausal(result, path, clock.Elapsed, shown);
        return result.Valid ? ExitCodes.Ok : ExitCodes.Failure;
    }

    private static string Empty(string readFrom) => new FileInfo(readFrom).Length == 0 ? "the file is empty: " : "";

    /// <summary>
    /// A history the other checker reads fails on its first field that differs (a causal record's "type" is never
    /// "invoke"), which says nothing of the real mistake: the model. Empty when the history's shape matches the model.
    /// </summary>
    private static string WrongModelHint(string readFrom, bool causal) => (HistoryShape.Detect(readFrom), causal) switch
    {
        (HistoryKind.ListAppend, true) => "; this looks like a serializable history (list-append operations), not a causal one: use --model serializable",
        (HistoryKind.Causal, false) => "; this looks like a causal history (function executions), not a serializable one: use --model causal",
        _ => "",
    };

    private static void WriteJson(string path, Action<Utf8JsonWriter> write)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        write(w);
    }

    /// <summary>A temporary copy of <paramref name="path"/> when it cannot be read from the start again (a pipe), else null.</summary>
    private static string? SpoolIfNotSeekable(string path)
    {
        using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        if (input.CanSeek) return null;
        string spool = Path.Combine(Path.GetTempPath(), $"leasehold-check-{Environment.ProcessId}-{Guid.NewGuid():N}.jsonl");
        try
        {
            using var copy = new FileStream(spool, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            input.CopyTo(copy);
        }
        catch
        {
            File.Delete(spool);
            throw;
        }
        return spool;
    }

    private static void Print(CheckResult r, string path, TimeSpan elapsed, int shown)
    {
        string model = r.Strict ? "strict serializability" : "serializability";
        AnsiConsole.MarkupLine($"{Markup.Escape(path)}: {r.Committed:N0} committed, {r.Failed:N0} failed, {r.Unknown:N0} unknown ({r.UnknownObserved:N0} seen to commit); {r.GraphEdges:N0} dependency edges; checked in {elapsed.TotalSeconds:F1} s");
        if (r.Valid)
        {
            AnsiConsole.MarkupLine($"[green]valid[/]: no anomaly against {model}");
            return;
        }
        PrintCounts(r.Counts, model);
        foreach (var group in r.Examples.GroupBy(a => a.Kind))
            foreach (var anomaly in group.Take(shown))
            {
                Console.WriteLine();
                Console.WriteLine($"{anomaly.Kind}: {anomaly.Explanation}");
                foreach (var op in anomaly.Operations) Console.WriteLine($"    {HistoryJson.ToLine(op)}");
            }
    }

    private static void PrintCausal(CausalCheckResult r, string path, TimeSpan elapsed, int shown)
    {
        string model = r.Convergence ? "causal consistency with convergence (CCv)" : "causal consistency (CC)";
        AnsiConsole.MarkupLine($"{Markup.Escape(path)}: {r.Workflows:N0} workflows ({r.AbortedWorkflows:N0} aborted), {r.Functions:N0} function executions " +
                               $"({r.MissingFunctions:N0} unrecorded parents), {r.Reads:N0} reads, {r.Writes:N0} writes; {r.Chains:N0} chains, {r.Edges:N0} edges" +
                               (r.Convergence ? $", {r.ConflictEdges:N0} conflict edges" : "") + $"; checked in {elapsed.TotalSeconds:F1} s");
        if (r.Valid)
        {
            AnsiConsole.MarkupLine($"[green]valid[/]: no violation of {model}");
            return;
        }
        PrintCounts(r.Counts, r.Convergence ? "CCv" : "CC"); // short: a long title wraps over the narrow table
        foreach (var group in r.Examples.GroupBy(a => a.Kind))
            foreach (var anomaly in group.Take(shown))
            {
                Console.WriteLine();
                Console.WriteLine($"{anomaly.Kind}: {anomaly.Explanation.TrimEnd()}");
                foreach (var record in anomaly.Records) Console.WriteLine($"    {CausalHistoryJson.ToLine(record)}");
            }
    }

    private static void PrintCounts(IReadOnlyDictionary<string, long> counts, string model)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"[red]INVALID[/] against {Markup.Escape(model)}");
        table.AddColumn("anomaly");
        table.AddColumn(new TableColumn("count").RightAligned());
        foreach (var (kind, count) in counts)
            if (count > 0) table.AddRow(Markup.Escape(kind), $"{count:N0}");
        AnsiConsole.Write(table);
    }
}
