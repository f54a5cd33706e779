using Leasehold.Tests.Support;

namespace Leasehold.Tests.Cli;

/// <summary>Bad values the validation misses: each must be one line on stderr naming the cause, exit 2, and no run.</summary>
public class CliBadInputTests
{
    [Theory]
    [InlineData("--keys", "2", "--workload", "micro", "--length", "3")] // fewer keys than one workflow touches
    [InlineData("--json", "", "--quiet")] // an empty path
    [InlineData("--json", "/tmp", "--quiet")] // a directory: must be refused before the run, or the run's result is lost at the end
    [InlineData("--transport", "tcp")] // not an in-process transport (a later issue adds processes)
    public async Task A_bad_value_is_a_one_line_error_and_exit_code_2(params string[] args)
    {
        var run = await CliProcess.RunAsync(["bench", "--duration", "0.2", "--warmup", "0", .. args]);
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(run.ExitCode == 2 && lines.Length == 1,
            $"exit {run.ExitCode}, {lines.Length} stderr lines: {string.Join(" / ", lines.Take(3))}");
    }
}
