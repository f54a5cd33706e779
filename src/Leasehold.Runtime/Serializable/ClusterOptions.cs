namespace Leasehold.Runtime.Serializable;

/// <summary>The concurrency-control protocol a cluster runs.</summary>
public enum ProtocolKind
{
    /// <summary>The RTSFaaS lease protocol: per-key chains, virtual vertices, flag hand-shake, abort gating.</summary>
    Lease,
    /// <summary>The same routing, leases and remote accesses with the per-key ordering removed. Unsafe by design: an upper bound.</summary>
    NoCC,
}

/// <summary>How the driver picks a worker for a request (§3).</summary>
public enum RoutingPolicy
{
    /// <summary>The paper's summed score: normalized affinity plus normalized load, weighted.</summary>
    SummedScore,
    /// <summary>The prototype's per-key voting: each key votes for the worker that accesses it most.</summary>
    PerKeyVoting,
}

/// <summary>Everything a serializable cluster is configured with; validated once at start.</summary>
public sealed record ClusterOptions
{
    public int Workers { get; init; } = 4;
    public int ExecutorsPerWorker { get; init; } = 2;
    public ProtocolKind Protocol { get; init; } = ProtocolKind.Lease;
    /// <summary>A batch closes at this many requests, whatever else holds.</summary>
    public int MaxBatchSize { get; init; } = 1000;
    /// <summary>
    /// A backstop: an open batch this old closes if the pipeline has room (batches normally close as soon as it
    /// has, see <see cref="PipelineDepth"/>). While the pipeline is full it keeps gathering: a batch closed then
    /// would wait for a place all the same, and the arrivals after it would be split into more batches.
    /// </summary>
    public TimeSpan MaxBatchDelay { get; init; } = TimeSpan.FromMilliseconds(2);
    /// <summary>
    /// Batches closed but not yet committed beyond which the open batch keeps gathering requests: while the
    /// pipeline is full, arrivals join one larger batch (group commit) instead of waiting on a timer.
    /// </summary>
    public int PipelineDepth { get; init; } = 2;
    /// <summary>Waiting time added to each one-sided memory operation (7 µs ≈ RDMA, 50 µs ≈ TCP).</summary>
    public TimeSpan RemoteOpLatency { get; init; } = TimeSpan.Zero;
    /// <summary>Waiting time added to each message between nodes.</summary>
    public TimeSpan LinkLatency { get; init; } = TimeSpan.Zero;
    /// <summary>How the driver and the workers exchange messages: by reference, or through the wire codec (tests).</summary>
    public Leasehold.Runtime.Transport.TransportKind Transport { get; init; } = Leasehold.Runtime.Transport.TransportKind.Inproc;
    public RoutingPolicy Routing { get; init; } = RoutingPolicy.SummedScore;
    public double AffinityWeight { get; init; } = 1.0;
    public double LoadWeight { get; init; } = 1.0;
    /// <summary>Every batch multiplies the access statistics by this factor, so leases follow a changing workload.</summary>
    public double Decay { get; init; } = 0.98;
    /// <summary>A challenger takes a lease only when its count exceeds the holder's by this margin.</summary>
    public double LeaseHysteresis { get; init; } = 1.0;
    /// <summary>Admitted requests not yet answered; beyond it callers wait or are refused.</summary>
    public int MaxOutstanding { get; init; } = 100_000;
    /// <summary>When a workflow's writes become visible to later workflows (see <see cref="Leasehold.WriteGating"/>).</summary>
    public WriteGating WriteGating { get; init; } = WriteGating.Strict;
    /// <summary>A function running longer than this fails its workflow.</summary>
    public TimeSpan FunctionTimeLimit { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Store failures in a row, with no batch committing between them, that the cluster rolls back from before it stops.</summary>
    public int RecoveryAttempts { get; init; } = 8;
    /// <summary>The wait before the first rollback's recovery; it doubles with each failure in a row, up to <see cref="MaxRecoveryBackoff"/>.</summary>
    public TimeSpan RecoveryBackoff { get; init; } = TimeSpan.FromMilliseconds(10);
    public TimeSpan MaxRecoveryBackoff { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The wait after the <paramref name="failures"/>-th failure in a row (1, 2, …): doubling from <see cref="RecoveryBackoff"/>, capped.</summary>
    public TimeSpan BackoffAfter(int failures) =>
        TimeSpan.FromTicks(Math.Min(RecoveryBackoff.Ticks << Math.Clamp(failures - 1, 0, 20), MaxRecoveryBackoff.Ticks));
    /// <summary>
    /// How long a rollback waits for the failed incarnation's store calls to return before it stops the cluster instead.
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits for ever: for deterministic tests, where time may pass while work is
    /// pending, so a deadline can expire before a reply that is already on its way.
    /// </summary>
    public TimeSpan StoreCallDeadline { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>
    /// How long stopping the cluster lets the requests already admitted finish; those still running after it
    /// are ended (Unknown when their batch may be in the log, Failed when it certainly is not).
    /// </summary>
    public TimeSpan StopDrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The largest value a function may write, in bytes: a larger write fails its workflow. Each worker's memory
    /// region is sized for it (its largest extent and its segments), so it is bounded: 1 MiB to 64 MiB.
    /// </summary>
    public int MaxValueBytes { get; init; } = MinMaxValueBytes;

    public const int MinMaxValueBytes = 1 << 20;
    public const int MaxMaxValueBytes = 64 << 20;

    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }
        Require(Workers is >= 1 and <= 1024, $"workers must be in 1..1024, not {Workers}");
        Require(ExecutorsPerWorker is >= 1 and <= 256, $"executors per worker must be in 1..256, not {ExecutorsPerWorker}");
        Require(MaxBatchSize >= 1, $"max batch size must be at least 1, not {MaxBatchSize}");
        Require(MaxBatchDelay > TimeSpan.Zero, $"max batch delay must be positive, not {MaxBatchDelay}");
        Require(PipelineDepth is >= 1 and <= 64, $"pipeline depth must be in 1..64, not {PipelineDepth}");
        Require(RemoteOpLatency >= TimeSpan.Zero, "remote operation latency cannot be negative");
        Require(LinkLatency >= TimeSpan.Zero, "link latency cannot be negative");
        Require(AffinityWeight >= 0 && LoadWeight >= 0 && AffinityWeight + LoadWeight > 0, "routing weights must be non-negative and not both zero");
        Require(Decay is > 0 and <= 1, $"decay must be in (0, 1], not {Decay}");
        Require(LeaseHysteresis >= 0, "lease hysteresis cannot be negative");
        Require(MaxOutstanding >= 1, "max outstanding must be at least 1");
        Require(FunctionTimeLimit > TimeSpan.Zero, "the function time limit must be positive");
        Require(StoreCallDeadline > TimeSpan.Zero || StoreCallDeadline == Timeout.InfiniteTimeSpan, "the store call deadline must be positive (or infinite)");
        Require(StopDrainTimeout >= TimeSpan.Zero, "the stop drain timeout cannot be negative");
        Require(RecoveryAttempts >= 0, "recovery attempts cannot be negative");
        Require(RecoveryBackoff >= TimeSpan.Zero && MaxRecoveryBackoff >= RecoveryBackoff, "the recovery backoff must be non-negative and at most its maximum");
        Require(MaxValueBytes is >= MinMaxValueBytes and <= MaxMaxValueBytes,
            $"the maximum value size (MaxValueBytes) must be in {MinMaxValueBytes}..{MaxMaxValueBytes} bytes (1 MiB..64 MiB), not {MaxValueBytes}");
    }
}
