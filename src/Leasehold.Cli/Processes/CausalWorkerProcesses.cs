using System.Runtime.CompilerServices;
using Leasehold.Cli.Bench.Causal;
using Leasehold.Runtime.Hosting.Causal;
using Leasehold.Runtime.Hosting.Processes;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Membership;
using Leasehold.Workloads.Causal;

namespace Leasehold.Cli.Processes;

/// <summary>
/// The causal bench's driver side of a multi-process cluster: this process hosts the causal client (client-0); each worker
/// process hosts its cache server. The workers are child processes started here (<see cref="LocalCluster"/>,
/// `--processes N`) or processes started by hand (`--cluster FILE`). It links to them, waits until each has joined with the
/// same workflows, and shuts them down when the run ends.
/// </summary>
internal sealed class CausalWorkerProcesses : IAsyncDisposable
{
    private readonly LocalCluster? _local;
    private readonly ProcessNetwork _network;
    private readonly WorkerMembership _membership;
    private readonly StrongBox<bool> _stopping;

    private CausalWorkerProcesses(LocalCluster? local, ProcessNetwork network, CausalClientHost client, WorkerMembership membership, StrongBox<bool> stopping)
    {
        _local = local;
        _network = network;
        Client = client;
        _membership = membership;
        _stopping = stopping;
    }

    public CausalClientHost Client { get; }

    public static async Task<CausalWorkerProcesses> StartAsync(CausalBenchSettings settings, ICausalWorkload workload, IScheduler scheduler, CancellationToken cancellation)
    {
        var kind = settings.Links ?? throw new InvalidOperationException("the causal bench runs worker processes only over links");
        var local = settings.Processes is { } n ? LocalCluster.StartCausal(kind, n, settings.WorkerArgs()) : null;
        ProcessNetwork? network = null;
        try
        {
            ClusterMap map;
            string mapPath = local?.MapPath ?? settings.ClusterFile!;
            try { map = local?.Map ?? ClusterMap.Load(mapPath); }
            catch (FormatException e) { throw new UsageException(e.Message); }
            int servers = CausalClusterMap.Servers(map, mapPath);
            if (servers != settings.Workers)
                throw new UsageException($"the cluster map {mapPath} has {servers} workers; give --workers {servers}");
            var driver = map.ProcessOf(NodeId.Driver);
            if (!driver.Nodes.Contains(NodeId.Client(0)))
                throw new UsageException($"the cluster map {mapPath} puts client-0 outside the driver's process '{driver.Name}': the causal client runs beside the driver, which admits the workers");
            var key = ClusterKeyFile.Read(local?.KeyPath ?? settings.KeyFile!);
            var stopping = new StrongBox<bool>();
            // Once the run ends, the workers closing their links is the shutdown working, not news.
            network = ProcessNetwork.Create(kind, map, driver.Name, key, scheduler, Runtime.Transport.Wire.WireLimits.Default.MaxValueBytes, line =>
            {
                if (!Volatile.Read(ref stopping.Value)) Console.Error.WriteLine($"leasehold driver: {line}");
            });
            var client = new CausalClientHost(settings.ToOptions(), scheduler, network.Links);
            foreach (var w in workload.Workflows) client.Register(w);
            var membership = new WorkerMembership(servers, scheduler, network.Links, workload.Workflows);
            network.Links.LinkLost += (peer, reason) =>
            {
                if (Volatile.Read(ref stopping.Value)) return;
                var nodes = map.Process(peer).Nodes;
                // A ring needs reliable FIFO links: the client stops, answering every workflow, and tells every server it reaches.
                foreach (var node in nodes) client.OnLinkLost(node, reason);
                membership.Lost(nodes, $"the link to process '{peer}' was lost: {reason}");
            };
            var processes = new CausalWorkerProcesses(local, network, client, membership, stopping);
            string? failure;
            try
            {
                await network.Links.StartAsync(cancellation);
                failure = await membership.JoinedAsync();
            }
            catch (Runtime.Transport.Links.LinkStartException e)
            {
                failure = e.Message;
            }
            if (failure is not null)
                throw new InvalidOperationException($"the worker processes did not come up: {failure}{(local is null ? "" : $" (workers: {local.Describe()})")}");
            return processes;
        }
        catch
        {
            if (network is not null) await network.DisposeAsync();
            if (local is not null) await local.DisposeAsync();
            throw;
        }
    }

    /// <summary>A worker started here that exited, or a lost link that stopped the causal cluster, ends the run naming why.</summary>
    public void ThrowIfStopped()
    {
        if (_local?.Exited() is { } exited) throw new InvalidOperationException($"a worker process ended during the run: {exited}");
        if (Client.Halted is { } halted) throw new InvalidOperationException(halted);
    }

    /// <summary>Stops the client (every caller answered), then the workers: each exits on the driver's shutdown message.</summary>
    public async Task StopAsync()
    {
        await Client.StopAsync().ConfigureAwait(false);
        Volatile.Write(ref _stopping.Value, true);
        _membership.Shutdown("the driver's run ended");
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        // The shutdown messages must be queued before the links close (which flushes what is queued).
        try { await _membership.ShutdownSent.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); }
        catch (TimeoutException) { }
        await _network.DisposeAsync();
        if (_local is not null) await _local.DisposeAsync();
    }
}
