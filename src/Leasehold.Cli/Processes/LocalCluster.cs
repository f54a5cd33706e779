using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using Leasehold.Cli.Bench;
using Leasehold.Runtime.Transport.Membership;

namespace Leasehold.Cli.Processes;

/// <summary>
/// The worker processes of a cluster on this host, started by `bench --processes N`: a cluster map on loopback
/// (TCP ports, or Unix sockets for shm), a fresh cluster key, and one `leasehold worker` child per worker, whose
/// output is kept for the error that names why one ended. Disposing stops them whatever happened: they exit on
/// the driver's shutdown, and any still running a few seconds later is killed.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    private readonly List<WorkerChild> _children = [];

    private readonly List<PosixSignalRegistration> _signals = [];
    private int _cleaned;

    private LocalCluster(string directory, ClusterMap map, string mapPath, string keyPath)
    {
        Directory = directory;
        Map = map;
        MapPath = mapPath;
        KeyPath = keyPath;
        // Ctrl-C, a terminating signal or an exit that skips the run's own stop must not leave worker processes, the
        // cluster key or the sockets behind: the handler kills the children and removes the directory, then lets the
        // signal do what it would have done.
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT, PosixSignal.SIGHUP })
            _signals.Add(PosixSignalRegistration.Create(signal, _ => CleanUp()));
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    private void OnProcessExit(object? sender, EventArgs e) => CleanUp();

    /// <summary>Once: kills every child still running and removes the directory with the key and the sockets.</summary>
    private void CleanUp()
    {
        if (Interlocked.Exchange(ref _cleaned, 1) != 0) return;
        foreach (var c in _children) c.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }

    public string Directory { get; }
    public ClusterMap Map { get; }
    public string MapPath { get; }
    public string KeyPath { get; }

    /// <summary>Writes the map and the key, and starts the workers; they link and join once the driver listens.</summary>
    public static LocalCluster Start(ProcessLinkKind kind, int workers, string store, string? storeNamespace, BenchSettings workload)
    {
        var args = new List<string> { "--store", store, "--workload", workload.Workload, "--length", workload.Length.ToString(CultureInfo.InvariantCulture) };
        if (storeNamespace is not null) args.AddRange(["--store-namespace", storeNamespace]);
        if (workload.Keys is { } keys) args.AddRange(["--keys", keys.ToString(CultureInfo.InvariantCulture)]);
        return Launch(kind, workers, args);
    }

    /// <summary>As <see cref="Start"/>, for the causal mode: each worker hosts its cache server, built with these flags (`worker --mode causal …`).</summary>
    public static LocalCluster StartCausal(ProcessLinkKind kind, int workers, IReadOnlyList<string> causalArgs) => Launch(kind, workers, causalArgs);

    /// <summary>Clusters this process has started: each gets its own name.</summary>
    private static int s_clusters;

    /// <param name="modeArgs">the flags after the ones every worker gets (map, name, key, transport): the mode's and the workload's.</param>
    private static LocalCluster Launch(ProcessLinkKind kind, int workers, IReadOnlyList<string> modeArgs)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"leasehold-cluster-{Environment.ProcessId}-{Environment.TickCount64}");
        System.IO.Directory.CreateDirectory(directory);
        var ports = kind == ProcessLinkKind.Shm ? [] : FreePorts(workers + 1);
        int next = 0;
        LinkAddress Address(string name) => kind == ProcessLinkKind.Shm
            ? LinkAddress.Parse($"unix:{Path.Combine(directory, name + ".sock")}")
            : LinkAddress.Parse($"tcp://127.0.0.1:{ports[next++]}");
        // One name per cluster this process starts: region files are named by cluster, so the rounds of one bench (whose
        // earlier workers may still be exiting, deleting their own files) never share a file name.
        var map = ClusterMap.Conventional($"bench-{Environment.ProcessId}-{Interlocked.Increment(ref s_clusters)}", Address("driver"), [.. Enumerable.Range(0, workers).Select(i => Address($"worker-{i}"))]);
        var mapPath = Path.Combine(directory, "cluster.json");
        File.WriteAllText(mapPath, ToJson(map));
        var keyPath = Path.Combine(directory, "cluster.key");
        ClusterKeyFile.Create(keyPath);
        var cluster = new LocalCluster(directory, map, mapPath, keyPath);
        try
        {
            foreach (var p in map.Processes.Where(p => p.Name != "driver"))
            {
                var args = new List<string> { "worker", "--cluster", mapPath, "--process", p.Name, "--key-file", keyPath,
                    "--transport", kind == ProcessLinkKind.Shm ? "shm" : "tcp" };
                args.AddRange(modeArgs);
                cluster._children.Add(WorkerChild.Start(p.Name, args));
            }
        }
        catch
        {
            cluster.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
        return cluster;
    }

    /// <summary>Why workers ended early (their exit codes and last lines), or null while all run.</summary>
    public string? Exited()
    {
        if (Volatile.Read(ref _cleaned) != 0) return "the run was interrupted by a signal; the worker processes were stopped";
        var ended = _children.Where(c => c.HasExited).Select(c => c.Describe()).ToList();
        return ended.Count == 0 ? null : string.Join("; ", ended);
    }

    /// <summary>Every worker's last lines, for a failure that needs them.</summary>
    public string Describe() => string.Join("; ", _children.Select(c => c.Describe()));

    /// <summary>Every line each worker printed that is still kept (the last 20), one block per worker: a stuck run's evidence.</summary>
    public string Output() => string.Join(Environment.NewLine, _children.Select(c => c.Output()));

    public async ValueTask DisposeAsync()
    {
        // They exit on the driver's shutdown message; one that does not within a few seconds is killed.
        var deadline = Stopwatch.StartNew();
        while (_children.Any(c => !c.HasExited) && deadline.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(50);
        CleanUp();
        foreach (var r in _signals) r.Dispose();
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
    }

    /// <summary>
    /// Ports the kernel says are free on loopback now, held together while they are chosen: one probe at a time could be
    /// given a port twice, and the map would refuse an address given to two processes. A worker that loses a race for
    /// its port afterwards fails to listen and says so.
    /// </summary>
    private static int[] FreePorts(int count)
    {
        var probes = new List<Socket>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                probes.Add(probe);
                probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            }
            return [.. probes.Select(p => ((IPEndPoint)p.LocalEndPoint!).Port)];
        }
        finally
        {
            foreach (var p in probes) p.Dispose();
        }
    }

    public static string ToJson(ClusterMap map) => JsonSerializer.Serialize(new
    {
        cluster = map.Cluster,
        processes = map.Processes.Select(p => new
        {
            name = p.Name,
            address = p.Address.Text,
            nodes = p.Nodes.Select(n => n.ToString()).ToArray(),
        }),
    }, new JsonSerializerOptions { WriteIndented = true });

    /// <summary>One `leasehold worker` child and the last lines it wrote.</summary>
    private sealed class WorkerChild : IDisposable
    {
        private const int KeptLines = 20;
        private readonly Process _process;
        private readonly Queue<string> _lines = new();

        private WorkerChild(string name, Process process)
        {
            Name = name;
            _process = process;
            process.OutputDataReceived += (_, e) => Keep(e.Data);
            process.ErrorDataReceived += (_, e) => Keep(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public string Name { get; }
        private int _disposed;

        public bool HasExited => Volatile.Read(ref _disposed) != 0 || _process.HasExited;

        public static WorkerChild Start(string name, IEnumerable<string> args)
        {
            var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            string self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's path to start the workers");
            start.FileName = self;
            if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(LocalCluster).Assembly.Location);
            foreach (var a in args) start.ArgumentList.Add(a);
            start.Environment["NO_COLOR"] = "1";
            return new WorkerChild(name, Process.Start(start) ?? throw new InvalidOperationException($"{name} did not start"));
        }

        private void Keep(string? line)
        {
            if (line is null) return;
            lock (_lines)
            {
                _lines.Enqueue(line);
                if (_lines.Count > KeptLines) _lines.Dequeue();
            }
        }

        public string Output()
        {
            lock (_lines) return $"{Name} printed:{Environment.NewLine}    {string.Join(Environment.NewLine + "    ", _lines)}";
        }

        public string Describe()
        {
            string last;
            lock (_lines) last = string.Join(" | ", _lines.TakeLast(3));
            if (Volatile.Read(ref _disposed) != 0) return $"{Name} (stopped): {last}";
            return HasExited ? $"{Name} exited with code {_process.ExitCode}: {last}" : $"{Name} (running): {last}";
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            try
            {
                if (!_process.HasExited) _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
            catch (InvalidOperationException) { }
            _process.Dispose();
        }
    }
}
