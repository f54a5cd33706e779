using System.Text.Json;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Cli;

public class BenchCommandTests
{
    [Theory]
    [InlineData("--workers", "0", "--workers")]
    [InlineData("--workload", "tpcc", "tpcc")]
    [InlineData("--protocol", "2pl", "2pl")]
    [InlineData("--theta", "-1", "--theta")]
    [InlineData("--duration", "abc", "--duration")]
    [InlineData("--rate", "0", "--rate")]
    [InlineData("--bogus", "1", "--bogus")]
    [InlineData("--store", "cassandra", "cassandra")]
    public async Task A_bad_flag_is_a_one_line_error_naming_it_and_exit_code_2(string flag, string value, string named)
    {
        var run = await CliProcess.RunAsync("bench", flag, value, "--duration", "1");
        Assert.Equal(2, run.ExitCode);
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(named, lines[0]);
        Assert.Equal("", run.Stdout.Trim());
    }

    [Fact]
    public async Task Bench_prints_a_summary_and_writes_the_json_object_with_every_field()
    {
        var json = Path.Combine(Path.GetTempPath(), $"leasehold-bench-{Environment.ProcessId}.json");
        try
        {
            var run = await CliProcess.RunAsync("bench", "--workload", "banking", "--duration", "1", "--min-committed", "200", "--warmup", "0.2",
                "--keys", "2000", "--clients", "8", "--remote-op-us", "7", "--seed", "3", "--json", json, "--quiet");
            Assert.True(run.ExitCode == 0, run.Stderr);
            Assert.Contains("throughput", run.Stdout);
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            var root = doc.RootElement;
            foreach (var field in new[] { "schema_version", "mode", "workload", "protocol", "store", "workers", "executors", "clients", "rate",
                         "remote_op_us", "batch_size", "batch_delay_ms", "pipeline_depth", "transport", "duration_s", "seed", "theta", "submitted", "committed", "aborted",
                         "throughput_tps", "latency_ms", "remote_ops", "lease_transfers", "local_ratio", "peak_working_set_mb",
                         "alloc_bytes_per_txn", "posts_per_txn", "wakeups_per_txn", "cpu_us_per_txn", "invariant" })
                Assert.True(root.TryGetProperty(field, out _), $"missing {field}");
            Assert.Equal("serializable", root.GetProperty("mode").GetString());
            Assert.Equal("lease", root.GetProperty("protocol").GetString());
            Assert.Equal("inproc", root.GetProperty("transport").GetString());
            Assert.True(root.GetProperty("committed").GetInt64() > 0);
            Assert.True(root.GetProperty("invariant").GetProperty("ok").GetBoolean(), root.GetProperty("invariant").GetProperty("detail").GetString());
            foreach (var p in new[] { "p50", "p90", "p99", "max" })
                Assert.True(root.GetProperty("latency_ms").GetProperty(p).GetDouble() > 0);
            // Every committed transfer passes through the driver's and a worker's mailboxes, on a CPU.
            Assert.True(root.GetProperty("posts_per_txn").GetDouble() >= 2, "posts_per_txn");
            Assert.True(root.GetProperty("wakeups_per_txn").GetDouble() > 0, "wakeups_per_txn");
            Assert.True(root.GetProperty("wakeups_per_txn").GetDouble() <= root.GetProperty("posts_per_txn").GetDouble(), "a wake-up without a post");
            Assert.True(root.GetProperty("cpu_us_per_txn").GetDouble() > 0, "cpu_us_per_txn");
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    public async Task Micro_runs_open_loop_and_keeps_its_write_count()
    {
        var run = await CliProcess.RunAsync("bench", "--workload", "micro", "--rate", "500", "--duration", "1", "--min-committed", "100", "--warmup", "0",
            "--keys", "500", "--length", "3", "--read-only", "0.3", "--quiet");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("holds", run.Stdout);
    }
}

/// <summary>
/// A short bench that must measure something: its window ends at --duration only once it holds --min-committed
/// commits, so tests that run the CLI for a second hold on a machine of any speed.
/// </summary>
public class BenchMinCommittedTests
{
    [Fact]
    public async Task The_measured_window_lasts_until_it_holds_min_committed_commits()
    {
        var json = Path.Combine(Path.GetTempPath(), $"leasehold-bench-min-{Environment.ProcessId}.json");
        try
        {
            // 10 ms could hold no commit even on an idle machine; 3000 takes far longer than that anywhere.
            var run = await CliProcess.RunAsync("bench", "--workload", "banking", "--store", "memory", "--duration", "0.01", "--warmup", "0",
                "--min-committed", "3000", "--keys", "2000", "--clients", "8", "--json", json, "--quiet");
            Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            Assert.True(doc.RootElement.GetProperty("committed").GetInt64() >= 3000, doc.RootElement.GetProperty("committed").ToString());
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("abc")]
    public async Task A_bad_min_committed_is_a_usage_error(string value)
    {
        var run = await CliProcess.RunAsync("bench", "--min-committed", value, "--duration", "1");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--min-committed", run.Stderr);
    }

    [Fact]
    public async Task Min_committed_is_refused_in_the_causal_mode_which_would_ignore_it()
    {
        var run = await CliProcess.RunAsync("bench", "--mode", "causal", "--min-committed", "10", "--duration", "1");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--min-committed", run.Stderr);
    }
}
