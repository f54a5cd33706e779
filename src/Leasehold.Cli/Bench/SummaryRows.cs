using Leasehold.Workloads;
using Spectre.Console;

namespace Leasehold.Cli.Bench;

/// <summary>The parts both modes' summaries share: the invariant's cell and the line that points to the glossary.</summary>
internal static class SummaryRows
{
    /// <summary>"holds (none)" read as a verdict on nothing; a workload without an invariant says so instead.</summary>
    public static Markup Invariant(InvariantResult invariant) => new(
        invariant.Name == "none" ? "[grey]none[/] (the workload has no invariant)"
        : invariant.Ok ? $"[green]holds[/] ({Markup.Escape(invariant.Name)})"
        : $"[red]BROKEN[/] ({Markup.Escape(invariant.Name)})");

    public static void WriteGlossaryPointer() => AnsiConsole.MarkupLine("[grey]what each figure means: leasehold bench --help (Summary terms)[/]");
}
