using System.Text.Json;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Cli;

/// <summary>`leasehold check` and `bench --workload list-append` end to end, through the real command line.</summary>
public sealed class CheckCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("leasehold-check-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, params string[] lines)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public async Task A_valid_history_exits_0_and_says_valid()
    {
        string path = Write("valid.jsonl",
            """{"index":0,"process":0,"type":"invoke","f":"txn","value":[["append",1,1]],"time":1}""",
            """{"index":1,"process":0,"type":"ok","f":"txn","value":[["append",1,1]],"time":2}""",
            """{"index":2,"process":1,"type":"invoke","f":"txn","value":[["r",1,null]],"time":3}""",
            """{"index":3,"process":1,"type":"ok","f":"txn","value":[["r",1,[1]]],"time":4}""");
        var run = await CliProcess.RunAsync("check", "--strict", path);
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Contains("valid", run.Stdout);
    }

    [Fact]
    public async Task A_stale_read_exits_1_under_strict_and_0_without()
    {
        // T1 appends and completes; T2 starts afterwards and still reads the empty list.
        string path = Write("stale.jsonl",
            """{"index":0,"process":0,"type":"invoke","f":"txn","value":[["append",1,1]],"time":1}""",
            """{"index":1,"process":0,"type":"ok","f":"txn","value":[["append",1,1]],"time":2}""",
            """{"index":2,"process":1,"type":"invoke","f":"txn","value":[["r",1,null]],"time":3}""",
            """{"index":3,"process":1,"type":"ok","f":"txn","value":[["r",1,[]]],"time":4}""",
            """{"index":4,"process":2,"type":"invoke","f":"txn","value":[["r",1,null]],"time":5}""",
            """{"index":5,"process":2,"type":"ok","f":"txn","value":[["r",1,[1]]],"time":6}""");
        var strict = await CliProcess.RunAsync("check", "--strict", path);
        Assert.True(strict.ExitCode == 1, strict.Stdout + strict.Stderr);
        Assert.Contains("G-single-realtime", strict.Stdout);
        Assert.Contains("(rt)", strict.Stdout);
        var plain = await CliProcess.RunAsync("check", path);
        Assert.True(plain.ExitCode == 0, plain.Stdout + plain.Stderr);
    }

    [Fact]
    public async Task A_history_piped_through_stdin_is_checked_like_a_file()
    {
        // Regression: the checker reads its input twice; from a pipe the second pass read nothing, so no read was
        // checked and this stale read (and any garbage read) was "valid", exit 0.
        string history = string.Join("\n",
            """{"index":0,"process":0,"type":"invoke","f":"txn","value":[["append",1,1]],"time":1}""",
            """{"index":1,"process":0,"type":"ok","f":"txn","value":[["append",1,1]],"time":2}""",
            """{"index":2,"process":1,"type":"invoke","f":"txn","value":[["r",1,null]],"time":3}""",
            """{"index":3,"process":1,"type":"ok","f":"txn","value":[["r",1,[]]],"time":4}""") + "\n";
        var run = await CliProcess.RunWithStdinAsync(history, "check", "--strict", "/dev/stdin");
        Assert.True(run.ExitCode == 1, run.Stdout + run.Stderr);
        Assert.Contains("G-single-realtime", run.Stdout);
    }

    [Theory]
    [InlineData("{\"index\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"txn\",\"value\":[[\"append\",1,1]],\"time\":1}\nnot json", "line 2")]
    [InlineData("{\"index\":0,\"process\":0,\"type\":\"launch\",\"f\":\"txn\",\"value\":[],\"time\":1}", "line 1")]
    [InlineData("{\"index\":0,\"process\":0,\"type\":\"ok\",\"f\":\"txn\",\"value\":[[\"append\",1,1]],\"time\":1}", "no operation in flight")]
    public async Task Unusable_input_exits_2_naming_the_line(string content, string named)
    {
        string path = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(path, content);
        var run = await CliProcess.RunAsync("check", path);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(named, run.Stderr);
        Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task An_empty_history_is_not_reported_valid()
    {
        string path = Write("empty.jsonl");
        var run = await CliProcess.RunAsync("check", path);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("no transactions", run.Stderr);
    }

    [Fact]
    public async Task A_missing_file_or_no_file_is_a_usage_error()
    {
        Assert.Equal(2, (await CliProcess.RunAsync("check", Path.Combine(_dir, "absent.jsonl"))).ExitCode);
        Assert.Equal(2, (await CliProcess.RunAsync("check")).ExitCode);
        Assert.Equal(2, (await CliProcess.RunAsync("check", "--model", "linearizable", Path.Combine(_dir, "x"))).ExitCode);
    }

    [Fact]
    public async Task Bench_list_append_records_a_history_that_checks_valid_and_reports_the_checker_in_json()
    {
        string history = Path.Combine(_dir, "h.jsonl"), json = Path.Combine(_dir, "r.json");
        var run = await CliProcess.RunAsync("bench", "--workload", "list-append", "--duration", "1", "--min-committed", "200", "--warmup", "0.2", "--clients", "16",
            "--remote-op-us", "7", "--history", history, "--json", json, "--quiet");
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var checker = doc.RootElement.GetProperty("checker");
        Assert.True(checker.GetProperty("ran").GetBoolean());
        Assert.True(checker.GetProperty("valid").GetBoolean(), run.Stdout);
        Assert.Equal(0, checker.GetProperty("anomalies").GetProperty("G0").GetInt64());
        // How many transactions a one-second run completes depends on the machine; that it recorded and checked some does not.
        long transactions = checker.GetProperty("transactions").GetInt64();
        Assert.True(transactions > 0, $"the checker saw no transactions\n{run.Stdout}");
        Assert.True(File.ReadLines(history).Count() > transactions, $"the history holds fewer lines than the {transactions} transactions it records");
        var check = await CliProcess.RunAsync("check", "--strict", history);
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
    }

    [Fact]
    public async Task Bench_list_append_under_nocc_is_flagged_by_the_checker()
    {
        string json = Path.Combine(_dir, "nocc.json");
        var run = await CliProcess.RunAsync("bench", "--workload", "list-append", "--protocol", "nocc", "--duration", "1", "--min-committed", "500", "--warmup", "0.2",
            "--clients", "32", "--keys", "3", "--json", json, "--quiet");
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr); // nocc is unsafe by design: its anomalies are expected, not a failure
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.False(doc.RootElement.GetProperty("checker").GetProperty("valid").GetBoolean());
    }

    [Theory]
    [InlineData("bank", "bank-total")]
    [InlineData("cycle", "cycle-ring")]
    public async Task Bench_bank_and_cycle_report_their_invariant_in_json_and_it_holds_under_lease(string workload, string invariant)
    {
        string json = Path.Combine(_dir, $"{workload}.json");
        var run = await CliProcess.RunAsync("bench", "--workload", workload, "--duration", "1", "--min-committed", "50", "--warmup", "0.2", "--clients", "16",
            "--remote-op-us", "7", "--affinity-weight", "0.2", "--load-weight", "3", "--json", json, "--quiet");
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var result = doc.RootElement.GetProperty("invariant");
        Assert.Equal(invariant, result.GetProperty("name").GetString());
        Assert.True(result.GetProperty("ok").GetBoolean(), result.GetProperty("detail").GetString());
        Assert.False(doc.RootElement.GetProperty("checker").GetProperty("ran").GetBoolean());
        Assert.True(doc.RootElement.GetProperty("committed").GetInt64() > 0);
    }
}
