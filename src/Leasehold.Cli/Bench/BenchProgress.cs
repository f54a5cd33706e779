using Spectre.Console;

namespace Leasehold.Cli.Bench;

/// <summary>How far a run is: seconds into it (warm-up included; virtual seconds in the deterministic mode) and what it is doing.</summary>
internal delegate void ProgressReport(double seconds, string status);

/// <summary>
/// The bench's live progress: a Spectre.Console progress bar per run on stderr, across warm-up and the measured
/// window, with the runner's counters beside it. Drawn only when stderr is a terminal and --quiet is not given;
/// otherwise (CI, a test reading the output) nothing is drawn, and stdout holds the summary alone either way.
/// </summary>
internal static class BenchProgress
{
    public static async Task<T> RunAsync<T>(bool live, string name, double totalSeconds, Func<ProgressReport, Task<T>> run)
    {
        if (!live) return await run((_, _) => { });
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        await console.Progress()
            .AutoClear(true) // the summary table follows and says it all
            .Columns(new SpinnerColumn(), new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape($"[{name}] starting"), maxValue: Math.Max(totalSeconds, 1e-9));
                result = await run((seconds, status) =>
                {
                    task.Value = Math.Min(seconds, task.MaxValue);
                    task.Description = Markup.Escape($"[{name}] {status}");
                });
                task.Value = task.MaxValue;
            });
        return result;
    }
}
