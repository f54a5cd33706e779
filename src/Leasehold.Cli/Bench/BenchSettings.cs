using Leasehold.Runtime.Serializable;

namespace Leasehold.Cli.Bench;

/// <summary>Everything one bench run is configured with, validated before anything starts.</summary>
internal sealed record BenchSettings
{
    public string Workload { get; init; } = "banking";
    public ProtocolKind Protocol { get; init; } = ProtocolKind.Lease;
    public string Store { get; init; } = "rocksdb";
    public int Workers { get; init; } = 4;
    public int Executors { get; init; } = 2;
    public int Clients { get; init; } = 64;
    public double DurationSeconds { get; init; } = 10;
    public double WarmupSeconds { get; init; } = 3;
    /// <summary>Commits the measured window must hold before it may end: a run's length follows progress, not the machine's speed.</summary>
    public long MinCommitted { get; init; }
    /// <summary>How long past --duration a window may wait for <see cref="MinCommitted"/> before the run fails as making no progress.</summary>
    public static readonly TimeSpan MinCommittedGrace = TimeSpan.FromMinutes(5);
    public double? Rate { get; init; }
    public double Theta { get; init; } = 0.99;
    public int BatchSize { get; init; } = 1000;
    public double BatchDelayMs { get; init; } = 2;
    public int PipelineDepth { get; init; } = 2;
    public Runtime.Transport.TransportKind Transport { get; init; } = Runtime.Transport.TransportKind.Inproc;
    /// <summary>How the driver reaches worker processes (null: the workers run in this process, over <see cref="Transport"/>).</summary>
    public Leasehold.Cli.Processes.ProcessLinkKind? Links { get; init; }
    /// <summary>Worker processes to start on this host (with <see cref="Links"/>); null with a <see cref="ClusterFile"/> of workers already running.</summary>
    public int? Processes { get; init; }
    /// <summary>The cluster map of workers started by hand (`leasehold worker`); this process is its driver.</summary>
    public string? ClusterFile { get; init; }
    /// <summary>The cluster key of a <see cref="ClusterFile"/>'s cluster.</summary>
    public string? KeyFile { get; init; }
    public double RemoteOpUs { get; init; }
    public double? LinkUs { get; init; }
    public int Seed { get; init; } = 1;
    public int? Keys { get; init; }
    public int Length { get; init; } = 2;
    public double ReadOnlyShare { get; init; }
    public RoutingPolicy Routing { get; init; } = RoutingPolicy.SummedScore;
    public WriteGating Gating { get; init; } = WriteGating.Strict;
    public double AffinityWeight { get; init; } = 1;
    public double LoadWeight { get; init; } = 1;
    public string? JsonPath { get; init; }
    /// <summary>Where a checkable workload's history is written (JSON lines); null: a temporary file, checked and deleted.</summary>
    public string? HistoryPath { get; init; }
    public int AppendsPerKey { get; init; } = 16;
    public bool Quiet { get; init; }

    /// <summary>Message latency between nodes; by default the same as a one-sided operation's.</summary>
    public double EffectiveLinkUs => LinkUs ?? RemoteOpUs;

    /// <summary>A one-line reason the settings cannot run, or null.</summary>
    public string? Problem()
    {
        if (Workload is not ("banking" or "micro" or "list-append" or "bank" or "cycle")) return $"--workload must be banking, micro, list-append, bank or cycle, not '{Workload}'";
        if (Workload == "cycle" && Keys is < 4) return $"--keys must be at least 4 for cycle (a swap rewires four distinct keys), not {Keys}";
        if (Workload == "bank" && Keys is not null) return "--keys does not apply to bank: Jepsen's bank has 8 accounts";
        if (HistoryPath is not null && Workload is not "list-append") return $"--history records list-append histories; '{Workload}' has no checkable history (its invariant is checked instead)";
        if (AppendsPerKey is < 1 or > 100_000) return $"--appends-per-key must be in 1..100000, not {AppendsPerKey}";
        if (Stores.StoreSpec.Parse(Store).Problem is { } storeProblem) return storeProblem;
        if (ProcessesProblem() is { } processesProblem) return processesProblem;
        if (Workers is < 1 or > 256) return $"--workers must be in 1..256, not {Workers}";
        if (Executors is < 1 or > 64) return $"--executors must be in 1..64, not {Executors}";
        if (Clients is < 1 or > 100_000) return $"--clients must be in 1..100000, not {Clients}";
        if (!(DurationSeconds > 0) || DurationSeconds > 86_400) return $"--duration must be in (0, 86400] seconds, not {DurationSeconds}";
        if (MinCommitted is < 0 or > 1_000_000_000) return $"--min-committed must be in 0..1000000000, not {MinCommitted}";
        if (!(WarmupSeconds >= 0) || WarmupSeconds > 3600) return $"--warmup must be in [0, 3600] seconds, not {WarmupSeconds}";
        if (Rate is { } r && !(r > 0 && r <= 10_000_000)) return $"--rate must be in (0, 10000000] requests per second, not {r}";
        if (!(Theta >= 0) || Theta > 10) return $"--theta must be in [0, 10], not {Theta}";
        if (BatchSize is < 1 or > 1_000_000) return $"--batch-size must be in 1..1000000, not {BatchSize}";
        if (!(BatchDelayMs > 0) || BatchDelayMs > 60_000) return $"--batch-delay-ms must be in (0, 60000], not {BatchDelayMs}";
        if (PipelineDepth is < 1 or > 64) return $"--pipeline-depth must be in 1..64, not {PipelineDepth}";
        if (!(RemoteOpUs >= 0) || RemoteOpUs > 1_000_000) return $"--remote-op-us must be in [0, 1000000], not {RemoteOpUs}";
        if (LinkUs is { } l && !(l >= 0 && l <= 1_000_000)) return $"--link-us must be in [0, 1000000], not {l}";
        int fewestKeys = Workload == "list-append" ? 1 : 2; // list-append: the active keys; one is a valid (very hot) choice
        if (Keys is { } k && (k < fewestKeys || k > 50_000_000)) return $"--keys must be in {fewestKeys}..50000000, not {k}";
        if (Length is < 1 or > 10) return $"--length must be in 1..10, not {Length}";
        if (Workload == "micro" && (Keys ?? 20_000) < Length) return $"--keys ({Keys}) must be at least --length ({Length}): a micro transaction touches one distinct key per function";
        if (!(ReadOnlyShare >= 0 && ReadOnlyShare <= 1)) return $"--read-only must be in [0, 1], not {ReadOnlyShare}";
        if (!(AffinityWeight >= 0) || !(LoadWeight >= 0) || AffinityWeight + LoadWeight <= 0) return "--affinity-weight and --load-weight must be non-negative and not both zero";
        return null;
    }

    private string? ProcessesProblem()
    {
        string transport = Links == Leasehold.Cli.Processes.ProcessLinkKind.Shm ? "shm" : "tcp";
        if (Links is null)
            return Processes is not null ? "--processes starts worker processes: give --transport tcp or shm (inproc runs every node in this process)"
                : ClusterFile is not null ? "--cluster drives worker processes: give --transport tcp or shm"
                : null;
        if (Processes is null && ClusterFile is null) return $"--transport {transport} runs the workers as processes: give --processes N (started here) or --cluster FILE (started by hand)";
        if (Processes is not null && ClusterFile is not null) return "--processes starts its own workers; --cluster drives workers started by hand: give one";
        if (Processes is { } n && (n < 1 || n > 64)) return $"--processes must be in 1..64, not {n}";
        if (ClusterFile is not null && KeyFile is null) return "--cluster needs --key-file: the cluster key the workers were started with";
        if (ClusterFile is not null)
        {
            // Checked before the store is opened and loaded, so a bad map or key leaves the schema as it was.
            try
            {
                var map = Runtime.Transport.Membership.ClusterMap.Load(ClusterFile);
                if (map.Workers != Workers) return $"the cluster map {ClusterFile} has {map.Workers} workers; give --workers {map.Workers}";
                Leasehold.Cli.Processes.ClusterKeyFile.Read(KeyFile!);
            }
            catch (FormatException e) { return $"--cluster: {e.Message}"; }
            catch (Leasehold.Cli.Processes.UsageException e) { return e.Message; }
        }
        if (Stores.StoreSpec.Parse(Store).Spec is { } spec)
        {
            if (Stores.SharedStore.Problem(spec) is { } notShared) return notShared;
            // Workers started by hand open the schema their --store names; a temporary one of the driver's own would be empty to them.
            if (ClusterFile is not null && spec.Engine == "postgres" && !spec.NamesSchema)
                return "--cluster: name the schema the workers opened (--store \"postgres:…;Search Path=NAME\"); without one the driver would run on a temporary schema of its own";
            if (ClusterFile is not null && spec.Engine == "redis")
                return "--cluster with --store redis is not supported yet: the driver cannot name the workers' keyspace; use postgres (with Search Path), or bench --processes";
        }
        if (Transport != Runtime.Transport.TransportKind.Inproc) return "inproc-serialising is an in-process transport; worker processes already carry every message through the codec";
        return null;
    }

    public ClusterOptions ToClusterOptions() => new()
    {
        Workers = Workers,
        ExecutorsPerWorker = Executors,
        Protocol = Protocol,
        MaxBatchSize = BatchSize,
        MaxBatchDelay = TimeSpan.FromMilliseconds(BatchDelayMs),
        PipelineDepth = PipelineDepth,
        Transport = Transport,
        RemoteOpLatency = TimeSpan.FromMicroseconds(RemoteOpUs),
        LinkLatency = TimeSpan.FromMicroseconds(EffectiveLinkUs),
        Routing = Routing,
        WriteGating = Gating,
        AffinityWeight = AffinityWeight,
        LoadWeight = LoadWeight,
        // Closed-loop clients never exceed their count; open loop may queue up to two seconds of arrivals.
        // An overloaded open loop is refused beyond that (counted as rejected) instead of queueing without bound.
        MaxOutstanding = Rate is { } rate ? (int)Math.Clamp(rate * 2, 1000, 200_000) : Math.Max(Clients, 1),
    };
}
