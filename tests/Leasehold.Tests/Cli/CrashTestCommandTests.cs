using Leasehold.Tests.Support;

namespace Leasehold.Tests.Cli;

/// <summary>
/// `leasehold crashtest`: a real node process on RocksDB, killed with SIGKILL, restarted and audited.
/// The negative control runs the node without idempotency keys: a re-sent request whose batch had
/// committed then runs twice, and the audit must say so.
/// </summary>
public class CrashTestCommandTests
{
    private const int KillAfterAcks = 50;

    [Fact]
    public async Task Killing_the_node_loses_nothing_acknowledged()
    {
        var run = await CliProcess.RunAsync("crashtest", "--kills", "3", "--kill-after-acks", $"{KillAfterAcks}", "--min-run-ms", "1", "--max-run-ms", "400", "--seed", "7");
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var kills = lines.Where(l => l.StartsWith("kill ")).ToList();
        Assert.Equal(3, kills.Count(l => l.EndsWith(": ok")));
        Assert.Contains(lines, l => l.StartsWith("final: ") && l.EndsWith(": ok"));
        Assert.Contains(lines, l => l.StartsWith("nothing lost: 3 kills"));
        // Every round ran until the node had acknowledged the threshold, however slow the machine.
        Assert.All(kills, l => Assert.True(AcknowledgedInRound(l) >= KillAfterAcks, l));
    }

    [Fact]
    [Trait("Category", "Long")]
    public async Task Without_idempotency_keys_the_audit_catches_requests_applied_twice()
    {
        var run = await CliProcess.RunAsync("crashtest", "--kills", "8", "--kill-after-acks", $"{KillAfterAcks}", "--min-run-ms", "1", "--max-run-ms", "300", "--seed", "3", "--without-idempotency");
        Assert.True(run.ExitCode == 1, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains("LOST OR CORRUPTED", run.Stdout);
        Assert.Contains("but the ledger's effects give", run.Stdout);
    }

    [Fact]
    public async Task A_node_that_cannot_reach_the_kill_threshold_fails_naming_it_instead_of_hanging()
    {
        string path = Path.Combine(Path.GetTempPath(), $"leasehold-crashtest-stalled-{Environment.ProcessId}");
        try
        {
            // No node acknowledges a million requests in one second: the round can never reach its kill.
            var run = await CliProcess.RunAsync("crashtest", "--store", $"rocksdb:{path}", "--kills", "1", "--kill-after-acks", "1000000", "--progress-timeout", "1");
            Assert.True(run.ExitCode == 1, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
            Assert.Contains("the node did not reach its kill threshold in 1 s", run.Stderr);
            Assert.Contains("of the 1000000 requests", run.Stderr);
        }
        finally
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
    }

    [Theory]
    [InlineData("--kill-after-acks", "-1", "--kill-after-acks must be in 0..1000000")]
    [InlineData("--progress-timeout", "0", "--progress-timeout must be in 1..3600")]
    public async Task An_out_of_range_progress_setting_is_a_usage_error(string flag, string value, string message)
    {
        var run = await CliProcess.RunAsync("crashtest", flag, value, "--kills", "1");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Stderr);
    }

    [Fact]
    public async Task The_help_documents_the_kill_and_progress_flags()
    {
        var run = await CliProcess.RunAsync("crashtest", "--help");
        Assert.Equal(0, run.ExitCode);
        foreach (var flag in new[] { "--kill-after-acks", "--min-run-ms", "--max-run-ms", "--progress-timeout", "--kills", "--seed", "--window" })
            Assert.Contains(flag, run.Stdout);
    }

    /// <summary>N of "... acknowledged (+N), ..." in a round's line.</summary>
    private static int AcknowledgedInRound(string line)
    {
        var match = System.Text.RegularExpressions.Regex.Match(line, @"acknowledged \(\+([0-9,]+)\)");
        Assert.True(match.Success, line);
        return int.Parse(match.Groups[1].Value.Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData("memory", "takes rocksdb")]
    [InlineData("postgres:Host=x", "takes rocksdb")]
    [InlineData("rocksdb:", "needs a path")]
    public async Task A_store_other_than_rocksdb_is_a_usage_error(string store, string message)
    {
        var run = await CliProcess.RunAsync("crashtest", "--store", store, "--kills", "1");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Stderr);
    }

    [Fact]
    public async Task A_path_that_already_holds_data_is_refused_and_left_alone()
    {
        string path = Path.Combine(Path.GetTempPath(), $"leasehold-crashtest-used-{Environment.ProcessId}");
        try
        {
            var first = await CliProcess.RunAsync("crashtest", "--store", $"rocksdb:{path}", "--kills", "0");
            Assert.True(first.ExitCode == 0, first.Stdout + first.Stderr);
            var files = Directory.GetFiles(path).Select(f => (f, new FileInfo(f).Length)).ToList();
            var again = await CliProcess.RunAsync("crashtest", "--store", $"rocksdb:{path}", "--kills", "0");
            Assert.Equal(2, again.ExitCode);
            Assert.Contains("already holds a crash test's data", again.Stderr);
            Assert.True(Directory.Exists(path));
        }
        finally
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
    }
}
