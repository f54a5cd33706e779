using Leasehold.Tests.Support;

namespace Leasehold.Tests.Cli;

/// <summary>What the command line says to a user who mistypes: one line naming the cause, exit 2, nothing run.</summary>
public class CommandLineErrorTests
{
    private static string[] StderrLines(CliProcess.Outcome run) => run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task An_unknown_command_is_named_with_the_list_of_commands()
    {
        var run = await CliProcess.RunAsync("frobnicate");
        Assert.Equal(2, run.ExitCode);
        string line = Assert.Single(StderrLines(run));
        Assert.Contains("unknown command 'frobnicate'", line);
        foreach (var command in new[] { "bench", "check", "crashtest" }) Assert.Contains(command, line);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public async Task An_unknown_option_before_any_command_is_named()
    {
        var run = await CliProcess.RunAsync("--frobnicate");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("unknown option '--frobnicate'", Assert.Single(StderrLines(run)));
    }

    [Fact]
    public async Task No_command_prints_the_help_to_stdout_like_help_does()
    {
        var bare = await CliProcess.RunAsync();
        var help = await CliProcess.RunAsync("--help");
        Assert.True(bare.ExitCode == 0, bare.Stderr);
        Assert.Equal("", bare.Stderr);
        Assert.Contains("Usage:", bare.Stdout);
        Assert.Contains("bench", bare.Stdout);
        Assert.Equal(help.Stdout, bare.Stdout);
    }

    [Theory]
    [InlineData("leasehold [command] [options]")]
    [InlineData("leasehold bench [options]", "bench")]
    [InlineData("leasehold check <FILE> [options]", "check")]
    public async Task The_usage_line_names_the_command_leasehold_not_the_assembly(string usage, params string[] command)
    {
        var run = await CliProcess.RunAsync([.. command, "--help"]);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains(usage, run.Stdout);
        Assert.DoesNotContain("Leasehold.Cli", run.Stdout);
    }

    [Theory]
    [InlineData("--theta: 'abc' is not a number", "bench", "--theta", "abc")]
    [InlineData("--duration: '10s' is not a number", "bench", "--duration", "10s")]
    [InlineData("--rate: 'fast' is not a number", "bench", "--rate", "fast")]
    [InlineData("--workers: 'four' is not a number", "bench", "--workers", "four")]
    [InlineData("--keys: '1.5' is not a whole number", "bench", "--keys", "1.5")]
    [InlineData("--clients: '99999999999' is out of range", "bench", "--clients", "99999999999")]
    [InlineData("--examples: 'all' is not a number", "check", "--examples", "all", "history.jsonl")]
    [InlineData("--kills: 'x' is not a number", "crashtest", "--kills", "x")]
    public async Task A_value_that_is_not_a_number_names_the_option_and_the_value(string message, params string[] args)
    {
        var run = await CliProcess.RunAsync(args);
        Assert.Equal(2, run.ExitCode);
        string line = Assert.Single(StderrLines(run));
        Assert.Contains(message, line);
        Assert.DoesNotContain("System.", line); // never a .NET type name such as System.Nullable`1[System.Double]
    }
}
