using System.Net;
using System.Net.Sockets;
using Leasehold.Storage.Postgres;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Processes;

/// <summary>
/// A cluster started the way docs/processes.md tells a user to: a cluster map file (a driver and N workers on
/// loopback TCP), a key file, a fresh PostgreSQL schema every process names in its connection string, then
/// `leasehold worker` processes and a `leasehold driver`. Disposing kills what still runs, drops the schema and
/// removes the files.
/// </summary>
internal sealed class HandStartedCluster : IAsyncDisposable
{
    private static int _clusters;
    private readonly List<LeaseholdChild> _children = [];

    private HandStartedCluster(string directory, string schema, PostgresStateStore store)
    {
        Directory = directory;
        Schema = schema;
        Store = store;
    }

    public string Directory { get; }
    public string MapPath => Path.Combine(Directory, "cluster.json");
    public string KeyPath => Path.Combine(Directory, "cluster.key");
    public string Schema { get; }
    /// <summary>The `--store` every process of the cluster is given.</summary>
    /// <remarks>The store fails fast (5 s) on a server that does not answer; with several processes connecting at once
    /// on a loaded machine that was too short, so the test gives the generous connect timeout the probe uses.</remarks>
    public string StoreFlag => $"postgres:{ExternalServer.Postgres};Timeout=30;Search Path={Schema}";
    /// <summary>The test's own handle on the cluster's schema, to read what was committed.</summary>
    public PostgresStateStore Store { get; }

    /// <summary>Writes the map and a key, and makes the schema (empty) before any process opens it.</summary>
    public static async Task<HandStartedCluster> CreateAsync(string tag, int workers)
    {
        int n = Interlocked.Increment(ref _clusters);
        string schema = $"proc_{tag}_{Environment.ProcessId}_{n}";
        var directory = Path.Combine(Path.GetTempPath(), $"leasehold-proctest-{Environment.ProcessId}-{n}");
        System.IO.Directory.CreateDirectory(directory);
        var stale = await PostgresStateStore.OpenAsync(ExternalServer.Postgres, schema);
        await stale.DropAsync();
        await stale.DisposeAsync();
        var cluster = new HandStartedCluster(directory, schema, await PostgresStateStore.OpenAsync(ExternalServer.Postgres, schema));
        var ports = FreePorts(workers + 1);
        var processes = new List<string> { $$"""{ "name": "driver", "address": "tcp://127.0.0.1:{{ports[0]}}", "nodes": ["driver-0", "client-0"] }""" };
        for (int i = 0; i < workers; i++)
            processes.Add($$"""{ "name": "worker-{{i}}", "address": "tcp://127.0.0.1:{{ports[i + 1]}}", "nodes": ["worker-{{i}}", "server-{{i}}"] }""");
        await File.WriteAllTextAsync(cluster.MapPath, $$"""{ "cluster": "proctest-{{n}}", "processes": [{{string.Join(",\n", processes)}}] }""");
        cluster.WriteKey(cluster.KeyPath, seed: 1);
        return cluster;
    }

    /// <summary>A 32-byte key file; another seed makes another key.</summary>
    public void WriteKey(string path, int seed)
    {
        var key = new byte[32];
        new Random(seed).NextBytes(key);
        File.WriteAllBytes(path, key);
    }

    /// <summary>`leasehold worker --process worker-i` of this cluster, with the banking workflows unless <paramref name="extra"/> says otherwise.</summary>
    public LeaseholdChild StartWorker(int index, string? keyPath = null, params string[] extra)
    {
        string[] args = ["worker", "--cluster", MapPath, "--process", $"worker-{index}", "--key-file", keyPath ?? KeyPath, "--store", StoreFlag, .. extra];
        if (!extra.Contains("--workload")) args = [.. args, "--workload", "banking"];
        return Track(LeaseholdChild.Start($"worker-{index}", args));
    }

    /// <summary>`leasehold driver` of this cluster's map, key and schema.</summary>
    public LeaseholdChild StartDriver(params string[] extra) =>
        Track(LeaseholdChild.Start("driver", ["driver", "--cluster", MapPath, "--key-file", KeyPath, "--store", StoreFlag, "--quiet", .. extra]));

    private LeaseholdChild Track(LeaseholdChild child)
    {
        _children.Add(child);
        return child;
    }

    /// <summary>The child's exit code; one still running after the hang guard fails the test with every process's output and the last committed batch.</summary>
    public async Task<int> ExitAsync(LeaseholdChild child)
    {
        try { return await child.ExitAsync(); }
        catch (Xunit.Sdk.XunitException hung)
        {
            throw new Xunit.Sdk.XunitException($"{hung.Message.Split('\n')[0]} (last committed batch {await Store.LastCommittedAsync()}); every process:\n{Describe()}");
        }
    }

    /// <summary>Every child's output, for a failure message.</summary>
    public string Describe() => string.Join("\n", _children.Select(c => $"--- {c.Name}{(c.HasExited ? " (exited)" : " (running)")}:\n{c.Output}"));

    /// <summary>Held open together, so no two are the same port, then released for the processes to bind.</summary>
    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        foreach (var l in listeners) l.Start();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        foreach (var l in listeners) l.Stop();
        return ports;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _children) await c.DisposeAsync();
        await Store.DropAsync();
        await Store.DisposeAsync();
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }
}
