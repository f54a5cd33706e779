using System.Runtime.CompilerServices;
using Leasehold.Cli.Bench;
using Leasehold.Cli.Stores;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Membership;
using Leasehold.Workloads;

namespace Leasehold.Cli.Processes;

/// <summary>
/// The bench's driver side of a multi-process cluster: this process is the driver; its workers are child processes
/// it started (<see cref="LocalCluster"/>, `--processes N`) or processes started by hand (`--cluster FILE`). It links
/// to them, waits until each has joined with the same workflows, and stops them when the run ends.
/// </summary>
internal sealed class WorkerProcesses : IAsyncDisposable
{
    private readonly LocalCluster? _local;
    private readonly ProcessNetwork _network;

    private readonly StrongBox<bool> _stopping;

    private WorkerProcesses(LocalCluster? local, ProcessNetwork network, SerializableCluster cluster, StrongBox<bool> stopping)
    {
        _stopping = stopping;
        _local = local;
        _network = network;
        Cluster = cluster;
    }

    public SerializableCluster Cluster { get; }

    /// <summary>Bytes the driver process's links sent.</summary>
    public long DriverBytesSent => _network.Links.Counters.BytesSent;

    /// <summary>
    /// Once stopped: the worker processes' reports (they send them as they shut down), waiting a few seconds for
    /// all of them. A worker that died sends none; the result says how many reported.
    /// </summary>
    public async Task<IReadOnlyList<Runtime.Hosting.Processes.WorkerReport>> ReportsAsync()
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Cluster.WorkerReports.Count < Cluster.Options.Workers && waited.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(20);
        return Cluster.WorkerReports;
    }

    public static async Task<WorkerProcesses> StartAsync(BenchSettings settings, ProcessLinkKind kind, OpenedStore opened, IWorkload workload, IScheduler scheduler, CancellationToken cancellation)
    {
        var local = settings.Processes is { } n ? LocalCluster.Start(kind, n, settings.Store, opened.Namespace, settings) : null;
        ProcessNetwork? network = null;
        try
        {
            ClusterMap map;
            try { map = local?.Map ?? ClusterMap.Load(settings.ClusterFile!); }
            catch (FormatException e) { throw new UsageException(e.Message); }
            if (map.Workers != settings.Workers && local is null)
                throw new UsageException($"the cluster map {settings.ClusterFile} has {map.Workers} workers; give --workers {map.Workers}");
            var key = ClusterKeyFile.Read(local?.KeyPath ?? settings.KeyFile!);
            string driver = map.ProcessOf(NodeId.Driver).Name;
            var options = settings.ToClusterOptions();
            var stopping = new StrongBox<bool>();
            // Once the run ends, the workers closing their links is the shutdown working, not news.
            network = ProcessNetwork.Create(kind, map, driver, key, scheduler, options.MaxValueBytes, line =>
            {
                if (!Volatile.Read(ref stopping.Value)) Console.Error.WriteLine($"leasehold driver: {line}");
            });
            var cluster = SerializableCluster.WithRemoteWorkers(options, scheduler, opened.Store, network.Links, network.Memory);
            foreach (var w in workload.Workflows) cluster.Register(w);
            network.Links.LinkLost += (peer, reason) => cluster.LinkLost(map.Process(peer).Nodes, $"the link to process '{peer}' was lost: {reason}");
            var processes = new WorkerProcesses(local, network, cluster, stopping);
            try
            {
                await network.Links.StartAsync(cancellation);
                await cluster.StartAsync();
            }
            catch (Exception e) when (e is Runtime.Transport.Links.LinkStartException or Runtime.Serializable.RecoveryException)
            {
                throw new InvalidOperationException($"the worker processes did not come up: {e.Message}{(local is null ? "" : $" (workers: {local.Describe()})")}", e);
            }
            return processes;
        }
        catch
        {
            if (network is not null) await network.DisposeAsync();
            if (local is not null) await local.DisposeAsync();
            throw;
        }
    }

    /// <summary>What the worker processes started here printed last (empty for workers started by hand): for a stuck run.</summary>
    public string Output() => _local?.Output() ?? "";

    /// <summary>A worker started here that exited during the run ends the run, naming why.</summary>
    public void ThrowIfWorkerExited()
    {
        if (_local?.Exited() is { } exited) throw new InvalidOperationException($"a worker process ended during the run: {exited}");
    }

    /// <summary>Stops the cluster: the workers retire and exit (the driver's shutdown message).</summary>
    public Task StopAsync()
    {
        Volatile.Write(ref _stopping.Value, true);
        return Cluster.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        // Never throws: an exception here would replace the one that ended the run, which is the one that says why.
        try { await StopAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false); }
        catch (TimeoutException) { Console.Error.WriteLine("leasehold: the cluster did not stop within 30 s (a batch in flight never finished); its worker processes are stopped by force"); }
        catch (Exception e) { Console.Error.WriteLine($"leasehold: stopping the cluster and its worker processes failed: {e.Message}"); }
        // The shutdown messages must be queued before the links close (which flushes what is queued); a cluster that never
        // got as far as sending them leaves its workers to notice the closed links.
        try { await Cluster.WorkerShutdownSent.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); }
        catch (TimeoutException) { }
        await _network.DisposeAsync();
        if (_local is not null) await _local.DisposeAsync();
    }
}
