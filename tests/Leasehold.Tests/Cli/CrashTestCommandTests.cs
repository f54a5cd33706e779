using Leasehold.Tests.Support;

namespace Leasehold.Tests.Cli;

/// <summary>
/// `leasehold crashtest`: a real node process on RocksDB, killed with SIGKILL, restarted and audited.
/// The negative control runs the node without idempotency keys: a re-sent request whose batch had
/// committed then runs twice, and the audit must say so.
/// </summary>
public class CrashTestCommandTests
{
    [Fact]
    public async Task Killing_the_node_loses_nothing_acknowledged()
    {
        var run = await CliProcess.RunAsync("crashtest", "--kills", "3", "--min-run-ms", "300", "--max-run-ms", "700", "--seed", "7");
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Count(l => l.StartsWith("kill ") && l.EndsWith(": ok")));
        Assert.Contains(lines, l => l.StartsWith("final: ") && l.EndsWith(": ok"));
        Assert.Contains(lines, l => l.StartsWith("nothing lost: 3 kills"));
        Assert.DoesNotContain(lines, l => l.StartsWith("kill ") && l.Contains(" 0 acknowledged (+0)")); // every round did work
    }

    [Fact]
    public async Task Without_idempotency_keys_the_audit_catches_requests_applied_twice()
    {
        var run = await CliProcess.RunAsync("crashtest", "--kills", "8", "--min-run-ms", "200", "--max-run-ms", "400", "--seed", "3", "--without-idempotency");
        Assert.True(run.ExitCode == 1, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains("LOST OR CORRUPTED", run.Stdout);
        Assert.Contains("but the ledger's effects give", run.Stdout);
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
