using Leasehold.Runtime.Causal;

namespace Leasehold.Cli.Bench.Causal;

/// <summary>One causal bench run's configuration (`bench --mode causal`), validated before anything starts.</summary>
internal sealed record CausalBenchSettings
{
    public string Workload { get; init; } = "causal-micro";
    public CausalProtocol Protocol { get; init; } = CausalProtocol.CausalMesh;
    public int Workers { get; init; } = 4;
    public int Clients { get; init; } = 64;
    public double DurationSeconds { get; init; } = 10;
    public double WarmupSeconds { get; init; } = 3;
    public double Theta { get; init; } = 1.0;
    public int Keys { get; init; } = 100_000;
    public int Length { get; init; } = 3;
    public double LinkLatencyUs { get; init; }
    public Runtime.Transport.TransportKind Transport { get; init; } = Runtime.Transport.TransportKind.Inproc;
    public bool EagerIntegration { get; init; } = true;
    /// <summary>Clients carry their session token from one workflow to the next (read-your-writes across them).</summary>
    public bool Sessions { get; init; } = true;
    /// <summary>Run every workflow as a read-write transaction (TCC): one snapshot for all reads, writes visible together.</summary>
    public bool Transactions { get; init; }
    public int Seed { get; init; } = 1;
    /// <summary>Run in the deterministic mode, in virtual time, with modelled server processors.</summary>
    public bool Virtual { get; init; }
    public double MessageServiceUs { get; init; } = 3;
    public double FunctionServiceUs { get; init; } = 6;
    /// <summary>The `--store` value; the causal bench opens it only with a durability (a fresh store each run).</summary>
    public string Store { get; init; } = "memory";
    public CausalDurability Durability { get; init; } = CausalDurability.None;
    /// <summary>C-cache keys per server (0: unbounded); needs a durability.</summary>
    public int Capacity { get; init; }
    /// <summary>How the driver reaches worker processes hosting the cache servers (null: every node runs in this process, over <see cref="Transport"/>).</summary>
    public Leasehold.Cli.Processes.ProcessLinkKind? Links { get; init; }
    /// <summary>Worker processes to start on this host (with <see cref="Links"/>); null with a <see cref="ClusterFile"/> of workers already running.</summary>
    public int? Processes { get; init; }
    /// <summary>The cluster map of workers started by hand (`leasehold worker --mode causal`); this process is its driver.</summary>
    public string? ClusterFile { get; init; }
    /// <summary>The cluster key of a <see cref="ClusterFile"/>'s cluster.</summary>
    public string? KeyFile { get; init; }
    public string? JsonPath { get; init; }
    public string? HistoryPath { get; init; }
    public bool Quiet { get; init; }

    public static string NameOf(CausalProtocol protocol) => protocol switch
    {
        CausalProtocol.CausalMesh => "causalmesh",
        CausalProtocol.Eventual => "eventual",
        CausalProtocol.HydroCon => "hydro-con",
        CausalProtocol.HydroOpt => "hydro-opt",
        CausalProtocol.FaasTcc => "faastcc",
        _ => protocol.ToString().ToLowerInvariant(),
    };

    public static string NameOf(CausalDurability durability) => durability switch
    {
        CausalDurability.WriteBehind => "write-behind",
        CausalDurability.Synchronous => "sync",
        _ => "none",
    };

    public string? Problem()
    {
        if (ProcessesProblem() is { } processesProblem) return processesProblem;
        if (Stores.StoreSpec.Parse(Store).Problem is { } storeProblem) return storeProblem;
        if (Durability == CausalDurability.None && Store != "memory")
            return $"--store {Stores.StoreSpec.Parse(Store).Spec!.Engine}: the causal mode persists into a store only with --durability write-behind or sync (none keeps its state in its caches)";
        // In virtual time the memory store stands in for a store as the servers' processors are modelled (its calls
        // complete synchronously, as the deterministic mode needs); in a real run it would persist nothing.
        if (Durability != CausalDurability.None && Store == "memory" && !Virtual)
            return $"--durability {NameOf(Durability)} needs a persistent store, and the memory store keeps nothing past the process: add --store rocksdb[:PATH], postgres:CONNECTION-STRING or redis:HOST:PORT";
        if (Durability != CausalDurability.None && Protocol != CausalProtocol.CausalMesh)
            return $"--durability {NameOf(Durability)}: persistence is built for causalmesh; {NameOf(Protocol)}'s versioned store is in memory only (give --durability none)";
        if (!EagerIntegration && Protocol is CausalProtocol.HydroCon or CausalProtocol.HydroOpt or CausalProtocol.FaasTcc)
            return $"--no-eager: eager integration is CausalMesh's stable-notice option; {NameOf(Protocol)}'s caches learn versions from the store's batched notifications and have no such choice (drop --no-eager)";
        if (Virtual && Store != "memory")
            return "--virtual runs in the deterministic mode, whose store calls must complete synchronously: it needs --store memory";
        if (Capacity < 0 || Capacity > 50_000_000) return $"--cache-capacity must be in 0..50000000 keys (0: unbounded), not {Capacity}";
        if (Capacity > 0 && Durability == CausalDurability.None)
            return "--cache-capacity evicts only keys whose versions the store holds: it needs --durability write-behind or sync";
        if (Workload is not ("causal-micro" or "media")) return $"--workload in causal mode must be causal-micro or media, not '{Workload}'";
        if (Workload == "media" && Protocol is CausalProtocol.HydroCon or CausalProtocol.HydroOpt or CausalProtocol.FaasTcc)
            return $"--workload media: its read workflow follows review ids it reads (ReadsAny), but {NameOf(Protocol)} prepares every key a function reads before the function runs, so it must know them from the request; run media under causalmesh or eventual";
        if (HistoryPath is not null && !Sessions)
            return "--history needs sessions: without them every workflow is its own client, and the history would claim an order between a client's workflows that nothing kept (drop --no-sessions)";
        if (Workers is < 1 or > 256) return $"--workers must be in 1..256, not {Workers}";
        if (Clients is < 1 or > 100_000) return $"--clients must be in 1..100000, not {Clients}";
        if (!(DurationSeconds > 0) || DurationSeconds > 86_400) return $"--duration must be in (0, 86400] seconds, not {DurationSeconds}";
        if (!(WarmupSeconds >= 0) || WarmupSeconds > 3600) return $"--warmup must be in [0, 3600] seconds, not {WarmupSeconds}";
        if (!(Theta >= 0) || Theta > 10) return $"--theta must be in [0, 10], not {Theta}";
        if (Keys is < 2 or > 50_000_000) return $"--keys must be in 2..50000000, not {Keys}";
        if (Length is < 3 or > 10) return $"--length must be in 3..10 functions in causal mode, not {Length}";
        if (!(MessageServiceUs >= 0) || MessageServiceUs > 100_000 || !(FunctionServiceUs >= 0) || FunctionServiceUs > 100_000)
            return $"--service-us and --function-us must be in [0, 100000], not {MessageServiceUs} and {FunctionServiceUs}";
        if (!(LinkLatencyUs >= 0) || LinkLatencyUs > 1_000_000) return $"--link-latency-us must be in [0, 1000000], not {LinkLatencyUs}";
        return null;
    }

    /// <summary>What cannot run across worker processes (null: nothing, or the run is in this process).</summary>
    private string? ProcessesProblem()
    {
        if (Links is not { } links)
            return Processes is not null ? "--processes starts worker processes: give --transport tcp or shm (inproc runs every node in this process)"
                : ClusterFile is not null ? "--cluster drives worker processes: give --transport tcp or shm"
                : null;
        string transport = links == Leasehold.Cli.Processes.ProcessLinkKind.Shm ? "shm" : "tcp";
        if (Processes is null && ClusterFile is null) return $"--transport {transport} runs the cache servers in worker processes: give --processes N (started here) or --cluster FILE (started by hand)";
        if (Processes is not null && ClusterFile is not null) return "--processes starts its own workers; --cluster drives workers started by hand: give one";
        if (Processes is { } n && (n < 1 || n > 64)) return $"--processes must be in 1..64, not {n}";
        if (ClusterFile is not null && KeyFile is null) return "--cluster needs --key-file: the cluster key the workers were started with";
        if (Durability != CausalDurability.None)
            return $"--durability {NameOf(Durability)}: across processes the causal mode keeps its state in the caches (a writer per process into a shared store is not built yet): drop --durability";
        if (Store != "memory")
            return $"--store: across processes the causal mode keeps its state in the caches and opens no store: drop --store";
        if (Virtual) return "--virtual runs every node in this process in virtual time: drop it, or --transport and --processes";
        if (LinkLatencyUs != 0) return $"--link-latency-us models a link's delay in one process; across processes the links are real: drop it";
        if (Protocol is not (CausalProtocol.CausalMesh or CausalProtocol.Eventual))
            return $"--protocol {NameOf(Protocol)}: across processes only causalmesh and eventual run (the baselines are built as one process)";
        return null;
    }

    /// <summary>
    /// The flags of `leasehold worker --mode causal` that make a worker process build its servers and workflows as this run
    /// does: the same options (servers come from the cluster map), the same workload and the same seed.
    /// </summary>
    public IReadOnlyList<string> WorkerArgs()
    {
        var args = new List<string>
        {
            "--mode", "causal", "--workload", Workload, "--protocol", NameOf(Protocol),
            "--keys", Keys.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--theta", Theta.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            "--seed", Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (Workload == "causal-micro") args.AddRange(["--length", Length.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        if (!EagerIntegration) args.Add("--no-eager");
        if (Transactions) args.Add("--transactions");
        return args;
    }

    public Workloads.Causal.ICausalWorkload CreateWorkload()
    {
        var consistency = Transactions ? Consistency.TransactionalCausal : Consistency.Causal;
        return Workload == "media"
            ? new Workloads.Causal.MediaWorkload(theta: Theta, consistency: consistency)
            : new Workloads.Causal.CausalMicroWorkload(Keys, Theta, Length, consistency);
    }

    public CausalOptions ToOptions() => new()
    {
        Servers = Workers,
        Protocol = Protocol,
        Transport = Transport,
        LinkLatency = TimeSpan.FromTicks((long)(LinkLatencyUs * TimeSpan.TicksPerMicrosecond)),
        EagerIntegration = EagerIntegration,
        Durability = Durability,
        Capacity = Capacity,
        Seed = Seed,
    };
}
