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
            var run = await CliProcess.RunAsync("bench", "--workload", "banking", "--duration", "1", "--warmup", "0.2",
                "--keys", "2000", "--clients", "8", "--remote-op-us", "7", "--seed", "3", "--json", json, "--quiet");
            Assert.True(run.ExitCode == 0, run.Stderr);
            Assert.Contains("throughput", run.Stdout);
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            var root = doc.RootElement;
            foreach (var field in new[] { "schema_version", "mode", "workload", "protocol", "store", "workers", "executors", "clients", "rate",
                         "remote_op_us", "batch_size", "batch_delay_ms", "duration_s", "seed", "theta", "submitted", "committed", "aborted",
                         "throughput_tps", "latency_ms", "remote_ops", "lease_transfers", "local_ratio", "peak_working_set_mb",
                         "alloc_bytes_per_txn", "invariant" })
                Assert.True(root.TryGetProperty(field, out _), $"missing {field}");
            Assert.Equal("serializable", root.GetProperty("mode").GetString());
            Assert.Equal("lease", root.GetProperty("protocol").GetString());
            Assert.True(root.GetProperty("committed").GetInt64() > 0);
            Assert.True(root.GetProperty("invariant").GetProperty("ok").GetBoolean(), root.GetProperty("invariant").GetProperty("detail").GetString());
            foreach (var p in new[] { "p50", "p90", "p99", "max" })
                Assert.True(root.GetProperty("latency_ms").GetProperty(p).GetDouble() > 0);
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    public async Task Micro_runs_open_loop_and_keeps_its_write_count()
    {
        var run = await CliProcess.RunAsync("bench", "--workload", "micro", "--rate", "500", "--duration", "1", "--warmup", "0",
            "--keys", "500", "--length", "3", "--read-only", "0.3", "--quiet");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("holds", run.Stdout);
    }
}
