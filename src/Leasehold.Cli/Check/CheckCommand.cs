using System.CommandLine;
using System.Diagnostics;
using Leasehold.Checkers.Histories;
using Leasehold.Checkers.ListAppend;
using Spectre.Console;

namespace Leasehold.Cli.Check;

/// <summary>
/// `leasehold check [--strict] FILE`: checks a recorded list-append history. Exit 0 when valid, 1 when
/// anomalies were found, 2 when the input cannot be checked (the message names the line).
/// </summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "a history: JSON lines, one operation a line, as `bench --history` records" };
        var strict = new Option<bool>("--strict") { Description = "add real-time edges: check strict serializability (the order clients saw), not only serializability" };
        var model = new Option<string>("--model") { Description = "the consistency model to check: serializable (list-append, after Elle)", DefaultValueFactory = _ => "serializable" };
        model.AcceptOnlyFromAmong("serializable");
        var examples = new Option<int>("--examples") { Description = "explained anomalies shown per kind", DefaultValueFactory = _ => 3 };
        var command = new Command("check", "Check a recorded history for isolation anomalies (G0, G1a/b/c, G-single, G2-item, lost updates, …)")
        {
            file, strict, model, examples,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            int shown = parse.GetValue(examples);
            if (shown is < 0 or > 1000)
            {
                Console.Error.WriteLine($"leasehold check: --examples must be in 0..1000, not {shown}");
                return ExitCodes.Usage;
            }
            if (!File.Exists(path))
            {
                Console.Error.WriteLine($"leasehold check: {(Directory.Exists(path) ? $"'{path}' is a directory, not a history file" : $"no history file '{path}'")}");
                return ExitCodes.Usage;
            }
            var options = new CheckerOptions { Strict = parse.GetValue(strict), ExamplesPerKind = Math.Max(shown, 1) };
            var clock = Stopwatch.StartNew();
            CheckResult result;
            string? spool = null;
            try
            {
                // The checker reads the history more than once; a pipe (/dev/stdin, <(…)) reads empty the second
                // time, so it is copied to a temporary file first.
                spool = SpoolIfNotSeekable(path);
                result = new ListAppendChecker(options).Check(new FileHistory(spool ?? path));
            }
            catch (HistoryFormatException e)
            {
                Console.Error.WriteLine($"leasehold check: {path}: {e.Message}");
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
            if (result.Committed + result.Failed + result.Unknown == 0)
            {
                // Vacuously valid, and so most likely a recorder that wrote nothing: not a verdict to trust.
                Console.Error.WriteLine($"leasehold check: {path}: the history holds no transactions, so there is nothing to check");
                return ExitCodes.Usage;
            }
            Print(result, path, clock.Elapsed, shown);
            return result.Valid ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return command;
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
        var table = new Table().Border(TableBorder.Rounded).Title($"[red]INVALID[/] against {model}");
        table.AddColumn("anomaly");
        table.AddColumn(new TableColumn("count").RightAligned());
        foreach (var (kind, count) in r.Counts)
            if (count > 0) table.AddRow(Markup.Escape(kind), $"{count:N0}");
        AnsiConsole.Write(table);
        foreach (var group in r.Examples.GroupBy(a => a.Kind))
            foreach (var anomaly in group.Take(shown))
            {
                Console.WriteLine();
                Console.WriteLine($"{anomaly.Kind}: {anomaly.Explanation}");
                foreach (var op in anomaly.Operations) Console.WriteLine($"    {HistoryJson.ToLine(op)}");
            }
    }
}
