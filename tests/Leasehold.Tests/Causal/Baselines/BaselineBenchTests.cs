namespace Leasehold.Tests.Causal.Baselines;

/// <summary>`bench --mode causal` with the baselines: runs, replays in virtual time across processes, refuses media.</summary>
public class BaselineBenchTests
{
    [Theory]
    [InlineData("hydro-con")]
    [InlineData("hydro-opt")]
    [InlineData("faastcc")]
    [Trait("Category", "Long")]
    public async Task A_virtual_baseline_run_replays_its_figures_for_a_seed(string protocol)
    {
        async Task<string> Run()
        {
            string json = Path.Combine(Path.GetTempPath(), $"baseline-virtual-{protocol}-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}.json");
            try
            {
                var run = await Leasehold.Tests.Support.CliProcess.RunAsync("bench", "--mode", "causal", "--virtual", "--protocol", protocol, "--workers", "4", "--link-latency-us", "50",
                    "--duration", "0.1", "--warmup", "0.02", "--clients", "16", "--keys", "50", "--quiet", "--json", json);
                Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
                var doc = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(json)).RootElement;
                Assert.Equal(protocol, doc.GetProperty("protocol").GetString());
                Assert.True(doc.GetProperty("committed").GetInt64() > 100);
                return $"{doc.GetProperty("committed")} {doc.GetProperty("aborted")} {doc.GetProperty("messages")} {doc.GetProperty("latency_ms")}";
            }
            finally { File.Delete(json); }
        }
        Assert.Equal(await Run(), await Run());
    }

    [Fact]
    public async Task Media_under_a_baseline_is_a_usage_error_that_says_why()
    {
        var run = await Leasehold.Tests.Support.CliProcess.RunAsync("bench", "--mode", "causal", "--protocol", "causalmesh,hydro-opt", "--workload", "media", "--duration", "0.1");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("ReadsAny", run.Stderr);
    }

    [Fact]
    public async Task A_baseline_history_recorded_by_the_bench_passes_the_checker()
    {
        string history = Path.Combine(Path.GetTempPath(), $"baseline-history-{Environment.ProcessId}.jsonl");
        try
        {
            var run = await Leasehold.Tests.Support.CliProcess.RunAsync("bench", "--mode", "causal", "--protocol", "hydro-opt", "--workers", "4", "--link-latency-us", "50",
                "--duration", "1", "--warmup", "0.2", "--clients", "16", "--keys", "20", "--quiet", "--history", history);
            Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
            Assert.Contains("causal checker: valid", run.Stdout.ReplaceLineEndings(" "));
        }
        finally { File.Delete(history); }
    }
}
