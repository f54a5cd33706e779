using Leasehold.Tests.Support;

namespace Leasehold.Tests.Cli;

/// <summary>A flag the run would ignore, or a combination that means nothing, is refused before anything runs.</summary>
public class BenchFlagConflictTests
{
    private static async Task AssertRefused(string named, params string[] args)
    {
        var run = await CliProcess.RunAsync(["bench", .. args, "--duration", "0.1", "--warmup", "0"]);
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Stdout}{run.Stderr}");
        Assert.Contains(named, Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.Equal("", run.Stdout); // refused before the run: no summary
    }

    [Theory]
    [InlineData("sync")]
    [InlineData("write-behind")]
    public async Task Causal_durability_on_the_memory_store_needs_a_persistent_store(string durability)
    {
        await AssertRefused("needs a persistent store", "--mode", "causal", "--durability", durability);
        await AssertRefused("needs a persistent store", "--mode", "causal", "--durability", durability, "--store", "memory");
    }

    [Theory]
    [InlineData("--executors applies only to --mode serializable", "--mode", "causal", "--executors", "3")]
    [InlineData("--batch-size applies only to --mode serializable", "--mode", "causal", "--batch-size", "10")]
    [InlineData("--remote-op-us applies only to --mode serializable", "--mode", "causal", "--remote-op-us", "7")]
    [InlineData("--gating applies only to --mode serializable", "--mode", "causal", "--gating", "declared")]
    [InlineData("--read-only applies only to --workload micro", "--workload", "banking", "--read-only", "0.5")]
    [InlineData("--service-us applies only to --virtual", "--mode", "causal", "--service-us", "4")]
    [InlineData("--keys applies only to --workload causal-micro", "--mode", "causal", "--workload", "media", "--keys", "10")]
    [InlineData("--length applies only to --workload micro", "--workload", "banking", "--length", "3")]
    [InlineData("--appends-per-key applies only to --workload list-append", "--workload", "micro", "--appends-per-key", "4")]
    [InlineData("--theta applies only to", "--workload", "bank", "--theta", "0.5")]
    [InlineData("--clients applies only to the closed loop", "--rate", "100", "--clients", "8")]
    [InlineData("--function-us", "--function-us", "6")]
    public async Task A_flag_the_run_would_ignore_is_a_usage_error(string named, params string[] args) => await AssertRefused(named, args);
}
