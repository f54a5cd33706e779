using System.CommandLine;
using Leasehold.Cli.Bench;
using Leasehold.Runtime.Hosting.Processes;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Membership;

namespace Leasehold.Cli.Processes;

/// <summary>
/// `leasehold worker`: one worker process of a multi-process cluster. It opens the shared store, deploys the
/// workload's workflows, links to every other process of the cluster map, joins the driver, and runs the worker
/// node of each incarnation the driver starts, until the driver shuts the cluster down (exit 0) or it is refused
/// or cut off (exit 1, naming why).
/// </summary>
internal static class WorkerCommand
{
    public static Command Create()
    {
        var cluster = new Option<string>("--cluster") { Description = "the cluster map (JSON): every process, its address and its nodes; see docs/processes.md", Required = true };
        var process = new Option<string>("--process") { Description = "this process's name in the cluster map (worker-0, …)", Required = true };
        var keyFile = new Option<string>("--key-file") { Description = "the cluster key (16 to 4096 bytes) every process of the cluster shares", Required = true };
        var transport = new Option<string>("--transport") { Description = "tcp (between hosts) | shm (one host: Unix sockets and memory-mapped regions)", DefaultValueFactory = _ => "tcp" };
        transport.AcceptOnlyFromAmong("tcp", "shm");
        var store = new Option<string>("--store") { Description = "the shared store: postgres:CONNECTION-STRING or redis:HOST:PORT[,…] (embedded engines have one owner); required in the serializable mode" };
        var storeNamespace = new Option<string?>("--store-namespace") { Description = "the schema (postgres) or keyspace (redis) the driver uses, when its store spec does not name it" };
        var workload = new Option<string>("--workload") { Description = "whose workflows to deploy: banking | micro | list-append | bank | cycle (the driver's)", DefaultValueFactory = _ => "banking" };
        workload.AcceptOnlyFromAmong("banking", "micro", "list-append", "bank", "cycle", "causal-micro", "media");
        var keys = new Option<int?>("--keys") { Description = "as the driver's bench --keys" };
        var length = new Option<int>("--length") { Description = "micro: as the driver's", DefaultValueFactory = _ => 2 };
        var command = new Command("worker", "Run one worker process of a multi-process cluster (static membership from --cluster)")
        {
            cluster, process, keyFile, transport, store, storeNamespace, workload, keys, length,
        };
        var causal = CausalWorkerFlags.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            try
            {
                if (causal.Mode(parse) == "causal")
                    return await CausalWorker.RunAsync(parse.GetValue(cluster)!, parse.GetValue(process)!, parse.GetValue(keyFile)!,
                        parse.GetValue(transport) == "shm" ? ProcessLinkKind.Shm : ProcessLinkKind.Tcp, causal.Settings(parse, store, workload, keys, length), cancellation);
                if (parse.GetValue(store) is null) throw new UsageException("--store is required: the shared store every process of the cluster opens (postgres:… or redis:…)");
                causal.RequireNone(parse);
                return await RunAsync(parse.GetValue(cluster)!, parse.GetValue(process)!, parse.GetValue(keyFile)!,
                    parse.GetValue(transport) == "shm" ? ProcessLinkKind.Shm : ProcessLinkKind.Tcp, parse.GetValue(store)!, parse.GetValue(storeNamespace),
                    new BenchSettings { Workload = parse.GetValue(workload)!, Keys = parse.GetValue(keys), Length = parse.GetValue(length) }, cancellation);
            }
            catch (UsageException e)
            {
                Console.Error.WriteLine($"leasehold worker: {e.Message}");
                return ExitCodes.Usage;
            }
            catch (Runtime.Storage.StoreUnavailableException e)
            {
                // As bench reports it: one line naming the store, not a stack trace.
                Console.Error.WriteLine($"leasehold worker: --store {Stores.StoreSpec.Redact(parse.GetValue(store)!)}: {e.Message}");
                return ExitCodes.Usage;
            }
        });
        return command;
    }

    /// <summary>
    /// Whether the store spec itself names the schema the worker shares with the driver. Without a name the store
    /// would open a temporary one of the worker's own, run against its empty state, and drop it on exit.
    /// </summary>
    private static bool NamesItsNamespace(Stores.StoreSpec spec)
    {
        if (spec.Engine != "postgres") return false;
        try { return !string.IsNullOrWhiteSpace(new Npgsql.NpgsqlConnectionStringBuilder(spec.Target).SearchPath); }
        catch (ArgumentException e) { throw new UsageException($"--store postgres: not a valid connection string: {e.Message}"); }
    }

    private static async Task<int> RunAsync(string mapPath, string processName, string keyPath, ProcessLinkKind kind, string storeText, string? storeNamespace,
        BenchSettings workloadSettings, CancellationToken cancellation)
    {
        ClusterMap map;
        try { map = ClusterMap.Load(mapPath); }
        catch (FormatException e) { throw new UsageException(e.Message); }
        ProcessEntry self;
        try { self = map.Process(processName); }
        catch (KeyNotFoundException e) { throw new UsageException($"--process: {e.Message}"); }
        var workers = self.Nodes.Where(n => n.Role == NodeRole.Worker).ToList();
        if (workers.Count == 0) throw new UsageException($"process '{processName}' of the cluster map runs no worker (its nodes: {string.Join(", ", self.Nodes)})");
        var key = ClusterKeyFile.Read(keyPath);
        var spec = Stores.SharedStore.Parse(storeText);
        if (storeNamespace is null && !NamesItsNamespace(spec))
            throw new UsageException($"--store {spec.Engine}: a worker joins the driver's {(spec.Engine == "redis" ? "keyspace" : "schema")}: give --store-namespace NAME{(spec.Engine == "postgres" ? " or Search Path=NAME in the connection string" : "")}, the one the driver uses");
        if (workloadSettings.Problem() is { } problem) throw new UsageException(problem);
        var workload = WorkloadFactory.Create(workloadSettings);

        void Log(string line) => Console.Error.WriteLine($"leasehold worker {processName}: {line}");
        await using var opened = await spec.OpenAsync("bench", storeNamespace);
        using var scheduler = new ThreadPoolScheduler();
        await using var network = ProcessNetwork.Create(kind, map, processName, key, scheduler, Runtime.Serializable.ClusterOptions.MaxMaxValueBytes, Log);
        var hosts = workers.Select(w => new WorkerProcessHost(w.Index, processName, scheduler, opened.Store, network.Links, network.Memory, workload.Workflows, network.CreateRegion, () => network.Links.Counters.BytesSent, network.Links.Describe)).ToList();
        network.Links.LinkLost += (peer, reason) =>
        {
            bool toDriver = map.Process(peer).Nodes.Contains(NodeId.Driver);
            foreach (var h in hosts) h.LinkLost(toDriver, $"{peer}: {reason}");
        };
        try { await network.Links.StartAsync(cancellation); }
        catch (Runtime.Transport.Links.LinkStartException e)
        {
            Log(e.Message);
            return ExitCodes.Failure;
        }
        Log($"linked to {map.Processes.Count - 1} processes; joining the driver with {workload.Workflows.Count} workflows");
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
        Log($"stopped: {stop.Reason}");
        return stop.Clean ? ExitCodes.Ok : ExitCodes.Failure;
    }
}
