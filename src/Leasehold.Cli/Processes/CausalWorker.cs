using Leasehold.Cli.Bench.Causal;
using Leasehold.Runtime.Hosting.Causal;
using Leasehold.Runtime.Hosting.Processes;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Membership;

namespace Leasehold.Cli.Processes;

/// <summary>
/// `leasehold worker --mode causal`: the cache servers of this process (server i beside worker i, as in the paper) on its
/// links, with the driver's options and the workload's workflows and initial values, joined through a join-only host so
/// the driver admits only a worker with its own workflows. Exits 0 on the driver's shutdown, 1 when refused or when the
/// link to the driver is lost. No store: the causal mode across processes keeps its state in the caches.
/// </summary>
internal static class CausalWorker
{
    public static async Task<int> RunAsync(string mapPath, string processName, string keyPath, ProcessLinkKind kind, CausalBenchSettings settings, CancellationToken cancellation)
    {
        ClusterMap map;
        try { map = ClusterMap.Load(mapPath); }
        catch (FormatException e) { throw new UsageException(e.Message); }
        ProcessEntry self;
        try { self = map.Process(processName); }
        catch (KeyNotFoundException e) { throw new UsageException($"--process: {e.Message}"); }
        int servers = CausalClusterMap.Servers(map, mapPath);
        var workers = self.Nodes.Where(n => n.Role == NodeRole.Worker).Select(n => (int)n.Index).ToList();
        var hosted = self.Nodes.Where(n => n.Role == NodeRole.CacheServer).Select(n => (int)n.Index).Order().ToList();
        if (workers.Count == 0 || hosted.Count == 0)
            throw new UsageException($"process '{processName}' of the cluster map runs no worker and cache server (its nodes: {string.Join(", ", self.Nodes)}); a causal worker process runs worker-i and server-i");
        settings = settings with { Workers = servers };
        if (settings.Problem() is { } problem) throw new UsageException(problem);
        var key = ClusterKeyFile.Read(keyPath);
        var workload = settings.CreateWorkload();
        var options = settings.ToOptions();

        void Log(string line) => Console.Error.WriteLine($"leasehold worker {processName}: {line}");
        using var scheduler = new ThreadPoolScheduler();
        await using var network = ProcessNetwork.Create(kind, map, processName, key, scheduler, Runtime.Transport.Wire.WireLimits.Default.MaxValueBytes, Log);
        // Registered before the links start: a message that arrives finds its server.
        var cache = new CausalServerHost(options, scheduler, network.Links, hosted, workload.Initial);
        foreach (var w in workload.Workflows) cache.Register(w);
        var hosts = workers.Select(w => new WorkerProcessHost(w, processName, scheduler, network.Links, workload.Workflows)).ToList();
        network.Links.LinkLost += (peer, reason) =>
        {
            var nodes = map.Process(peer).Nodes;
            // A ring needs reliable FIFO links: the servers stop, and the client hears of it (or stops on its own link's loss).
            foreach (var node in nodes) cache.OnLinkLost(node, reason);
            bool toDriver = nodes.Contains(NodeId.Driver) || nodes.Contains(NodeId.Client(0));
            foreach (var h in hosts) h.LinkLost(toDriver, $"{peer}: {reason}");
        };
        try { await network.Links.StartAsync(cancellation); }
        catch (Runtime.Transport.Links.LinkStartException e)
        {
            Log(e.Message);
            return ExitCodes.Failure;
        }
        Log($"linked to {map.Processes.Count - 1} processes; serving {string.Join(", ", hosted.Select(i => $"server-{i}"))} of {servers}; joining the driver with {workload.Workflows.Count} workflows");
        foreach (var h in hosts) h.Join();
        var anyStopped = Task.WhenAny(hosts.Select(h => h.Stopped));
        // A fault on one of this process's mailboxes is a bug that voids the run: it ends the process, naming it.
        while (!anyStopped.IsCompleted && scheduler.Fault is null)
            await Task.WhenAny(anyStopped, Task.Delay(250, cancellation)).ConfigureAwait(false);
        if (scheduler.Fault is { } fault)
        {
            Log($"internal error: {fault}");
            return ExitCodes.Failure;
        }
        var stop = await await anyStopped;
        Log($"stopped: {stop.Reason}" + (cache.Halted is { } halted ? $" (its servers had stopped: {halted})" : ""));
        return stop.Clean ? ExitCodes.Ok : ExitCodes.Failure;
    }
}
