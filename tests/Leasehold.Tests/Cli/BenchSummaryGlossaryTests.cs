using System.Text.RegularExpressions;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Cli;

/// <summary>Every figure of the bench's summary is explained where a user looks: `leasehold bench --help`.</summary>
public class BenchSummaryGlossaryTests
{
    [Theory]
    [InlineData("--store", "memory", "--workload", "banking", "--keys", "1000", "--clients", "4")]
    [InlineData("--mode", "causal", "--virtual", "--transactions", "--keys", "200", "--clients", "4")]
    public async Task Every_row_of_the_summary_is_in_the_help_glossary(params string[] args)
    {
        var run = await CliProcess.RunAsync(["bench", .. args, "--duration", "0.2", "--warmup", "0", "--quiet"]);
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Contains("leasehold bench --help", run.Stdout); // the summary points to the glossary

        var help = await CliProcess.RunAsync("bench", "--help");
        int section = help.Stdout.IndexOf("Summary terms", StringComparison.Ordinal);
        Assert.True(section >= 0, help.Stdout);
        string glossary = Regex.Replace(help.Stdout[section..], @"\s+", " ");

        var rows = run.Stdout.Split('\n')
            .Where(l => l.StartsWith('│'))
            .Select(l => l.Split('│', StringSplitOptions.TrimEntries)[1])
            .Where(label => label is not ("" or "metric"))
            .ToList();
        Assert.True(rows.Count >= 6, run.Stdout);
        foreach (var row in rows)
            foreach (var term in Regex.Replace(row, @"\s*\([^)]*\)", "").Split(" / "))
                Assert.True(glossary.Contains(term, StringComparison.Ordinal), $"'{term}' (from the row '{row}') is not in the glossary");
    }

    [Fact]
    public async Task A_workload_without_an_invariant_does_not_report_that_it_holds()
    {
        var run = await CliProcess.RunAsync("bench", "--mode", "causal", "--virtual", "--keys", "200", "--clients", "4", "--duration", "0.1", "--warmup", "0", "--quiet");
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.DoesNotContain("holds (none)", run.Stdout);
        Assert.Contains("the workload has no invariant", run.Stdout);
    }
}
