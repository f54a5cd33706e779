using Leasehold.Tests.Support;

namespace Leasehold.Tests.Cli;

public class CrashTestRunLengthTests
{
    /// <summary>--max-run-ms int.MaxValue would overflow Random.Next(min, max + 1); it must be refused as a usage error, not crash and leave a stray temporary store.</summary>
    [Fact]
    public async Task The_largest_max_run_ms_is_a_usage_error()
    {
        var run = await CliProcess.RunAsync("crashtest", "--kills", "1", "--min-run-ms", "1", "--max-run-ms", "2147483647");
        Assert.DoesNotContain("Unhandled exception", run.Stdout + run.Stderr);
        Assert.Equal(2, run.ExitCode);
    }
}
