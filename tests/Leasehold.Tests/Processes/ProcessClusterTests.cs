using System.Text.Json;
using Leasehold.Storage.Postgres;
using Leasehold.Tests.Support;
using Leasehold.Workloads.Banking;
using Leasehold.Workloads.JepsenBank;

namespace Leasehold.Tests.Processes;

/// <summary>
/// A driver and worker processes as a user runs them: `bench --transport tcp --processes 3`, and the docs' cluster
/// started by hand (a map, a key, `leasehold worker` ×3, `leasehold driver`), on PostgreSQL. Every run is short and
/// must commit something (--min-committed 1), so a loaded machine makes a test slower, never wrong.
/// </summary>
public class ProcessClusterTests
{
    /// <summary>Small enough that loading the accounts into PostgreSQL takes no time; every run still contends.</summary>
    private const string Accounts = "1000";

    private static readonly string[] ShortRun = ["--duration", "2", "--warmup", "1", "--min-committed", "1", "--keys", Accounts];

    [SkippableFact]
    [Trait("Category", "Long")]
    public async Task Banking_on_three_worker_processes_over_tcp_holds_its_invariant()
    {
        await ExternalServer.RequirePostgresOrSkipAsync();
        await using var cluster = await HandStartedCluster.CreateAsync("bench", workers: 0);
        string json = Path.Combine(cluster.Directory, "result.json");
        await using var bench = LeaseholdChild.Start("bench", ["bench", "--transport", "tcp", "--processes", "3", "--store", cluster.StoreFlag, "--json", json, "--quiet", .. ShortRun]);

        Assert.True(await bench.ExitAsync() == 0, bench.Output);
        using var result = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var root = result.RootElement;
        Assert.True(root.GetProperty("invariant").GetProperty("ok").GetBoolean(), root.GetProperty("invariant").GetProperty("detail").GetString());
        Assert.True(root.GetProperty("committed").GetInt64() > 0, bench.Output);
        Assert.Equal("tcp", root.GetProperty("transport").GetString());
        Assert.Equal(4, root.GetProperty("processes").GetInt32());
    }

    [SkippableFact]
    [Trait("Category", "Long")]
    public async Task List_append_on_three_worker_processes_over_tcp_checks_strict_serializable()
    {
        await ExternalServer.RequirePostgresOrSkipAsync();
        await using var cluster = await HandStartedCluster.CreateAsync("history", workers: 0);
        string json = Path.Combine(cluster.Directory, "result.json"), history = Path.Combine(cluster.Directory, "history.jsonl");
        await using var bench = LeaseholdChild.Start("bench", ["bench", "--transport", "tcp", "--processes", "3", "--store", cluster.StoreFlag,
            "--workload", "list-append", "--history", history, "--json", json, "--quiet", "--duration", "2", "--warmup", "1", "--min-committed", "1"]);

        Assert.True(await bench.ExitAsync() == 0, bench.Output);
        using var result = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var checker = result.RootElement.GetProperty("checker");
        Assert.True(checker.GetProperty("ran").GetBoolean());
        Assert.Equal("strict-serializable", checker.GetProperty("model").GetString());
        Assert.True(checker.GetProperty("valid").GetBoolean(), checker.ToString());
        Assert.True(checker.GetProperty("transactions").GetInt64() > 0, checker.ToString());
        var check = await CliProcess.RunAsync("check", "--strict", history);
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        Assert.Contains("valid", check.Stdout);
    }

    [SkippableFact]
    [Trait("Category", "Long")]
    public async Task A_cluster_started_by_hand_runs_banking_and_every_worker_exits_cleanly_after_the_driver()
    {
        await ExternalServer.RequirePostgresOrSkipAsync();
        await using var cluster = await HandStartedCluster.CreateAsync("hand", workers: 3);
        var workers = Enumerable.Range(0, 3).Select(i => cluster.StartWorker(i)).ToList();
        string json = Path.Combine(cluster.Directory, "result.json");
        var driver = cluster.StartDriver(["--workers", "3", "--json", json, .. ShortRun]);

        Assert.True(await cluster.ExitAsync(driver) == 0, cluster.Describe());
        using var result = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var invariant = result.RootElement.GetProperty("invariant");
        Assert.True(invariant.GetProperty("ok").GetBoolean(), invariant.GetProperty("detail").GetString());
        Assert.True(result.RootElement.GetProperty("committed").GetInt64() > 0, cluster.Describe());
        foreach (var w in workers) Assert.True(await cluster.ExitAsync(w) == 0, $"{w.Name} did not exit cleanly:\n{cluster.Describe()}");
    }

    [SkippableFact]
    [Trait("Category", "Long")]
    public async Task A_worker_with_other_workflows_is_refused_at_join_and_both_sides_name_why()
    {
        await ExternalServer.RequirePostgresOrSkipAsync();
        await using var cluster = await HandStartedCluster.CreateAsync("workflows", workers: 3);
        var workers = new[] { cluster.StartWorker(0), cluster.StartWorker(1), cluster.StartWorker(2, null, "--workload", "micro") };
        var driver = cluster.StartDriver(["--workers", "3", .. ShortRun]);

        Assert.True(await cluster.ExitAsync(driver) != 0, cluster.Describe());
        Named(cluster, driver, "worker-2");
        Assert.True(await cluster.ExitAsync(workers[2]) != 0, cluster.Describe());
        Named(cluster, workers[2], "workflows differ");
        // The others are not left running once the driver is gone.
        foreach (var w in workers[..2]) await cluster.ExitAsync(w);
        Assert.Equal(0, await cluster.Store.LastCommittedAsync());
        // The refused worker exits, so the driver may hear of its lost link before (or instead of) its refusal: the
        // refusal must still be what the driver names, since it is the cause the user can act on.
        Named(cluster, driver, "workflows differ");
    }

    [SkippableFact]
    [Trait("Category", "Long")]
    public async Task A_process_without_the_cluster_key_cannot_join_and_nothing_runs()
    {
        await ExternalServer.RequirePostgresOrSkipAsync();
        await using var cluster = await HandStartedCluster.CreateAsync("key", workers: 3);
        string otherKey = Path.Combine(cluster.Directory, "other.key");
        cluster.WriteKey(otherKey, seed: 2);
        var workers = new[] { cluster.StartWorker(0), cluster.StartWorker(1), cluster.StartWorker(2, otherKey) };
        var driver = cluster.StartDriver(["--workers", "3", .. ShortRun]);

        Assert.True(await cluster.ExitAsync(driver) != 0, cluster.Describe());
        Named(cluster, driver, "did not come up");
        Named(cluster, driver, "worker-2");
        Assert.True(await cluster.ExitAsync(workers[2]) != 0, cluster.Describe());
        Named(cluster, workers[2], "refused");
        foreach (var w in workers[..2]) await cluster.ExitAsync(w);
        Assert.Equal(0, await cluster.Store.LastCommittedAsync());
    }

    /// <summary>
    /// SIGKILL one worker process after the driver has committed batches. The run fails naming the lost worker, the
    /// other workers exit, and the committed state is whole. What must hold after any crash: banking's total is the
    /// initial total plus committed deposits, and the deposits committed before the kill are known to no one but the
    /// dead driver, so for banking the check is every account present, none negative, and no money lost (deposits
    /// only add); Jepsen's bank has transfers only, so its total must be exactly conserved — a transfer torn by the
    /// crash (withdrawn, never deposited) breaks it.
    /// </summary>
    [SkippableTheory]
    [Trait("Category", "Long")]
    [InlineData("banking")]
    [InlineData("bank")]
    public async Task A_killed_worker_process_fails_the_run_naming_it_and_corrupts_nothing(string workload)
    {
        await ExternalServer.RequirePostgresOrSkipAsync();
        await using var cluster = await HandStartedCluster.CreateAsync("kill", workers: 3);
        var workers = Enumerable.Range(0, 3).Select(i => cluster.StartWorker(i, null, "--workload", workload)).ToList();
        string[] keys = workload == "bank" ? [] : ["--keys", Accounts]; // Jepsen's bank has its 8 accounts
        var driver = cluster.StartDriver(["--workers", "3", "--workload", workload, .. keys, "--duration", "600", "--warmup", "0"]);

        // Committed batches in the store mean the cluster is up and running; the driver prints no progress to a pipe.
        using (var guard = new CancellationTokenSource(LeaseholdChild.HangGuard))
            while (await cluster.Store.LastCommittedAsync() < 3)
            {
                Assert.False(driver.HasExited, cluster.Describe());
                await Task.Delay(250, guard.Token);
            }
        workers[1].Kill();

        Assert.True(await cluster.ExitAsync(driver) != 0, cluster.Describe());
        Named(cluster, driver, "worker-1");
        Named(cluster, driver, "static membership");
        foreach (var w in workers) await cluster.ExitAsync(w);
        Assert.True(await cluster.Store.LastCommittedAsync() >= 3);
        var balances = new Dictionary<string, long>();
        await foreach (var (key, value) in cluster.Store.ScanCommittedAsync(workload == "bank" ? JepsenBankWorkload.Table : BankingWorkload.Table))
            balances[key] = Value.ToLong(value);
        Assert.DoesNotContain(balances, b => b.Value < 0);
        if (workload == "bank")
        {
            Assert.Equal(JepsenBankWorkload.AccountCount, balances.Count);
            Assert.Equal(JepsenBankWorkload.Total, balances.Values.Sum());
        }
        else
        {
            var initial = new BankingWorkload(accounts: int.Parse(Accounts));
            Assert.Equal(initial.Accounts, balances.Count);
            Assert.True(balances.Values.Sum() >= initial.InitialBalance * initial.Accounts, $"total {balances.Values.Sum()} is below the initial {initial.InitialBalance * initial.Accounts}");
        }
    }

    private static void Named(HandStartedCluster cluster, LeaseholdChild child, string text) =>
        Assert.True(child.Output.Contains(text, StringComparison.Ordinal), $"{child.Name} did not name '{text}':\n{cluster.Describe()}");

    public static TheoryData<string, string> BadWorkerInput => new()
    {
        { "missing-key", "does not exist" },
        { "short-key", "holds 3 bytes" },
        { "bad-map", "not valid JSON" },
        { "unknown-process", "no process named 'worker-9'" },
        { "memory-store", "--store memory: a multi-process cluster needs a shared store" },
        { "rocksdb-store", "--store rocksdb: a multi-process cluster needs a shared store" },
        { "unnamed-schema", "give --store-namespace" },
    };

    [Theory]
    [MemberData(nameof(BadWorkerInput))]
    public async Task Bad_worker_input_exits_2_with_one_line_naming_the_cause(string input, string named)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"leasehold-badworker-{Environment.ProcessId}-{input}");
        Directory.CreateDirectory(directory);
        try
        {
            string map = Path.Combine(directory, "cluster.json"), key = Path.Combine(directory, "cluster.key");
            await File.WriteAllTextAsync(map, input == "bad-map" ? "{ \"cluster\": \"demo\", \"processes\": [ " : """
                { "cluster": "demo", "processes": [
                  { "name": "driver", "address": "tcp://127.0.0.1:7100", "nodes": ["driver-0", "client-0"] },
                  { "name": "worker-0", "address": "tcp://127.0.0.1:7101", "nodes": ["worker-0", "server-0"] } ] }
                """);
            if (input != "missing-key") await File.WriteAllBytesAsync(key, new byte[input == "short-key" ? 3 : 32]);
            string store = input switch
            {
                "memory-store" => "memory",
                "rocksdb-store" => "rocksdb",
                "unnamed-schema" => "postgres:Host=127.0.0.1;Port=1;Username=u;Password=p;Database=d",
                _ => "postgres:Host=127.0.0.1;Port=1;Username=u;Password=p;Database=d;Search Path=never_opened",
            };
            var run = await CliProcess.RunAsync("worker", "--cluster", map, "--process", input == "unknown-process" ? "worker-9" : "worker-0",
                "--key-file", key, "--store", store);

            Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Stdout}{run.Stderr}");
            Assert.Contains(named, run.Stderr);
            Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
