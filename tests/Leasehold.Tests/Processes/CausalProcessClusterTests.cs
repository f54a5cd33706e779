using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Processes;

/// <summary>
/// The causal micro-benchmark across real processes: `bench --mode causal --transport tcp --processes 3` (the driver hosts
/// the client, each worker process its cache server), its history checked causal; a worker with other workflows refused at
/// join; and the flags that cannot run across processes refused before anything starts. No store: the causal mode keeps
/// its state in the caches.
/// </summary>
public class CausalProcessClusterTests
{
    private static readonly string[] ShortRun = ["--duration", "1.5", "--warmup", "0.5", "--clients", "16", "--quiet"];
    private static readonly string[] FewKeys = ["--keys", "200"];

    private static async Task<JsonElement> BenchAcrossProcessesAsync(string directory, params string[] extra)
    {
        string json = Path.Combine(directory, "result.json"), history = Path.Combine(directory, "history.jsonl");
        var run = await CliProcess.RunAsync(["bench", "--mode", "causal", "--transport", "tcp", "--processes", "3",
            "--history", history, "--json", json, .. ShortRun, .. extra]);
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Stdout}{run.Stderr}");

        var root = JsonDocument.Parse(await File.ReadAllTextAsync(json)).RootElement;
        Assert.Equal("tcp", root.GetProperty("transport").GetString());
        Assert.Equal(4, root.GetProperty("processes").GetInt32());
        Assert.True(root.GetProperty("committed").GetInt64() > 0, run.Stdout);
        Assert.Equal(0, root.GetProperty("failed").GetInt64());
        // What only the servers count is absent across processes, never a made-up 0.
        Assert.Equal(JsonValueKind.Null, root.GetProperty("ring_messages_per_workflow").ValueKind);
        var checker = root.GetProperty("checker");
        Assert.True(checker.GetProperty("ran").GetBoolean());
        Assert.True(checker.GetProperty("valid").GetBoolean(), checker.ToString());
        Assert.True(checker.GetProperty("workflows").GetInt64() > 0, checker.ToString());

        var check = await CliProcess.RunAsync("check", "--model", "causal", history);
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        Assert.Contains("valid", check.Stdout);
        return root;
    }

    [Fact]
    [Trait("Category", "Long")]
    public async Task The_causal_micro_benchmark_on_three_worker_processes_over_tcp_checks_causal()
    {
        using var directory = new TempDirectory("causal-tcp");
        await BenchAcrossProcessesAsync(directory.Path, FewKeys);
    }

    [Fact]
    [Trait("Category", "Long")]
    public async Task Causal_transactions_on_three_worker_processes_over_tcp_check_causal()
    {
        using var directory = new TempDirectory("causal-tcc");
        var root = await BenchAcrossProcessesAsync(directory.Path, [.. FewKeys, "--transactions"]);
        Assert.True(root.GetProperty("transactions").GetBoolean());
    }

    [Fact]
    [Trait("Category", "Long")]
    public async Task The_media_workload_on_three_worker_processes_over_tcp_checks_causal()
    {
        using var directory = new TempDirectory("causal-media");
        var root = await BenchAcrossProcessesAsync(directory.Path, "--workload", "media");
        Assert.Equal("media", root.GetProperty("workload").GetString());
    }

    [Fact]
    public async Task A_causal_worker_with_other_workflows_is_refused_at_join_and_both_sides_name_why()
    {
        using var directory = new TempDirectory("causal-refused");
        string map = Path.Combine(directory.Path, "cluster.json"), key = Path.Combine(directory.Path, "cluster.key");
        var ports = FreePorts(4);
        var processes = new List<string> { $$"""{ "name": "driver", "address": "tcp://127.0.0.1:{{ports[0]}}", "nodes": ["driver-0", "client-0"] }""" };
        for (int i = 0; i < 3; i++)
            processes.Add($$"""{ "name": "worker-{{i}}", "address": "tcp://127.0.0.1:{{ports[i + 1]}}", "nodes": ["worker-{{i}}", "server-{{i}}"] }""");
        await File.WriteAllTextAsync(map, $$"""{ "cluster": "causal-refused", "processes": [{{string.Join(",\n", processes)}}] }""");
        var secret = new byte[32];
        new Random(1).NextBytes(secret);
        await File.WriteAllBytesAsync(key, secret);
        string[] Worker(int i, params string[] extra) => ["worker", "--mode", "causal", "--cluster", map, "--process", $"worker-{i}", "--key-file", key, "--keys", "200", .. extra];

        await using var worker0 = LeaseholdChild.Start("worker-0", Worker(0));
        await using var worker1 = LeaseholdChild.Start("worker-1", Worker(1));
        await using var worker2 = LeaseholdChild.Start("worker-2", Worker(2, "--transactions"));
        await using var driver = LeaseholdChild.Start("driver", ["driver", "--mode", "causal", "--cluster", map, "--key-file", key, "--workers", "3", .. FewKeys, .. ShortRun]);
        string Describe() => string.Join("\n", new[] { driver, worker0, worker1, worker2 }.Select(c => c.Describe()));

        Assert.True(await driver.ExitAsync() == 1, Describe());
        Assert.Contains("worker-2 (process 'worker-2') was refused", driver.Output);
        Assert.Contains("workflow 'causal-micro' has definition", driver.Output);
        Assert.True(await worker2.ExitAsync() == 1, Describe());
        Assert.Contains("workflows differ", worker2.Output);
        // The others lose their link to the driver once it gives up, and say so.
        Assert.True(await worker0.ExitAsync() == 1, Describe());
        Assert.Contains("the link to the driver was lost", worker0.Output);
        await worker1.ExitAsync();
    }

    public static TheoryData<string[], string> BadCausalProcessFlags => new()
    {
        { ["--processes", "3"], "--processes starts worker processes: give --transport tcp or shm" },
        { ["--transport", "tcp", "--processes", "3", "--durability", "sync", "--store", "rocksdb"], "--durability sync" },
        { ["--transport", "tcp", "--processes", "3", "--durability", "write-behind", "--store", "rocksdb"], "--durability write-behind" },
        { ["--transport", "tcp", "--processes", "3", "--store", "rocksdb"], "--store" },
        { ["--transport", "tcp"], "give --processes N" },
        { ["--transport", "tcp", "--processes", "3", "--virtual"], "--virtual" },
        { ["--transport", "tcp", "--processes", "3", "--link-latency-us", "50"], "--link-latency-us" },
        { ["--transport", "tcp", "--processes", "3", "--protocol", "hydro-opt"], "--protocol hydro-opt" },
        { ["--transport", "tcp", "--processes", "3", "--workers", "2"], "--workers is 2" },
    };

    [Theory]
    [MemberData(nameof(BadCausalProcessFlags))]
    public async Task Causal_flags_that_cannot_run_across_processes_exit_2_naming_them(string[] flags, string named)
    {
        var run = await CliProcess.RunAsync(["bench", "--mode", "causal", "--duration", "0.1", "--quiet", .. flags]);

        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Stdout}{run.Stderr}");
        Assert.Contains(named, run.Stderr);
        Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData(new[] { "--store", "postgres:Host=127.0.0.1;Search Path=x" }, "--store: across processes the causal mode")]
    [InlineData(new[] { "--workload", "banking" }, "--workload banking is a serializable workload")]
    public async Task A_causal_worker_with_a_store_or_a_serializable_workload_exits_2_naming_it(string[] flags, string named)
    {
        var run = await CliProcess.RunAsync(["worker", "--mode", "causal", "--cluster", "unused.json", "--process", "worker-0", "--key-file", "unused.key", .. flags]);

        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Stdout}{run.Stderr}");
        Assert.Contains(named, run.Stderr);
    }

    /// <summary>Held open together, so no two are the same port, then released for the processes to bind.</summary>
    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        foreach (var l in listeners) l.Start();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        foreach (var l in listeners) l.Stop();
        return ports;
    }

    private sealed class TempDirectory : IDisposable
    {
        private static int _made;

        public TempDirectory(string tag)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"leasehold-{tag}-{Environment.ProcessId}-{Interlocked.Increment(ref _made)}");
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); }
            catch (IOException) { }
        }
    }
}
