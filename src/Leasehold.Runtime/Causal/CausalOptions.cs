using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Causal;

/// <summary>The protocol the cache servers run.</summary>
public enum CausalProtocol
{
    /// <summary>CausalMesh (VLDB '25): C-cache, I-cache, vector clocks, two-lap propagation, dependency integration.</summary>
    CausalMesh,
    /// <summary>The negative control: each server applies writes as they arrive and reads whatever it has. Not causal.</summary>
    Eventual,
    /// <summary>Baseline (§8): HydroCache's conservative protocol — an all-cache snapshot of the workflow's read set before it runs.</summary>
    HydroCon,
    /// <summary>Baseline (§8): HydroCache's optimistic protocol — each function checks its cache against upstream reads, fetches or aborts.</summary>
    HydroOpt,
    /// <summary>Baseline (§8): FaaSTCC — timestamped versions, validity intervals, storage-issued promises, a snapshot interval per transaction.</summary>
    FaasTcc,
}

/// <summary>Whether, and when, a causal cluster's writes reach its store (causal.md §6).</summary>
public enum CausalDurability
{
    /// <summary>No store: state lives in the caches only (the default).</summary>
    None,
    /// <summary>As in the paper: a workflow is answered at once; writes are persisted in background batches.</summary>
    WriteBehind,
    /// <summary>
    /// A workflow's result is delivered only once every write it made is durable. Function bodies cannot
    /// block, so it is the acknowledgement of the workflow (its completion) that waits, not the write.
    /// </summary>
    Synchronous,
}

/// <summary>Everything a causal cluster is configured with; validated once at start.</summary>
public sealed record CausalOptions
{
    public int Servers { get; init; } = 4;
    public CausalProtocol Protocol { get; init; } = CausalProtocol.CausalMesh;
    /// <summary>Waiting time of each message hop: ring links, a workflow moving to another server, client to server.</summary>
    public TimeSpan LinkLatency { get; init; } = TimeSpan.Zero;
    /// <summary>How the servers and the client exchange messages: by reference (the default), or every message through the wire codec.</summary>
    public TransportKind Transport { get; init; } = TransportKind.Inproc;
    /// <summary>Extra random delay per ring message (deterministic mode); links stay first-in-first-out.</summary>
    public TimeSpan RingJitter { get; init; } = TimeSpan.Zero;
    /// <summary>
    /// §4: integrate a write into a server's C-cache as soon as its stable notice arrives there. Off, the server
    /// notes the notice and integrates the write before the next function's first read on it (so a fresh reader of
    /// a quiet cluster still sees the last write; a server nobody reads on integrates nothing), and sessions are not
    /// pruned (a notice that went round no longer proves that every server integrated the write).
    /// </summary>
    public bool EagerIntegration { get; init; } = true;
    /// <summary>
    /// §5's Decision as written — drop an I-cache version once the C-cache version of its key has a clock ≥
    /// its clock — which is UNSOUND, so it is off and kept only as a negative control: a head's clock
    /// absorbs the entries of writes it never depended on, so a C-cache version can dominate a write it
    /// does not contain, and dropping that write loses its dependencies (the media test caught a dangling
    /// review id). An I-cache version is dropped when it is merged instead.
    /// </summary>
    public bool UnsafeDropDominatedVersions { get; init; }
    /// <summary>Assert the per-operation invariants of §7 (4, 6, 7, 8) on every read and write; a violation faults the run.</summary>
    public bool CheckInvariants { get; init; }
    /// <summary>
    /// The invariant checks' negative control, never for use: the tail makes a write visible after one lap,
    /// before the other servers are sure to hold it, which breaks invariant 2 (and so causality).
    /// </summary>
    public bool UnsafeOneLap { get; init; }
    /// <summary>Deterministic mode only: modelled processor time a server spends on each ring message (0: none).</summary>
    public TimeSpan MessageServiceTime { get; init; } = TimeSpan.Zero;
    /// <summary>Deterministic mode only: modelled processor time of running one function on its server.</summary>
    public TimeSpan FunctionServiceTime { get; init; } = TimeSpan.Zero;
    /// <summary>
    /// Read-write transactions: how many recent writes per key each server keeps beside its C-cache in any
    /// case, so a transaction whose snapshot is older than the C-cache can still read it. Beyond these, a
    /// write is kept until it is stable (integrated everywhere, so every new snapshot holds it), at most 256.
    /// </summary>
    public int TransactionVersions { get; init; } = 4;
    /// <summary>Read-write transactions, and the baselines that abort (hydro-opt, faastcc): attempts before a workflow that keeps aborting fails.</summary>
    public int TransactionAttempts { get; init; } = 100;
    /// <summary>§6: persistence through a store (given to the cluster); None keeps today's cache-only behaviour.</summary>
    public CausalDurability Durability { get; init; } = CausalDurability.None;
    /// <summary>
    /// §5: the most keys a server's C-cache holds (0: unbounded). Beyond it, the least recently used keys
    /// whose version the store already holds, and that have no I-cache versions, are evicted. Needs a store.
    /// </summary>
    public int Capacity { get; init; }
    /// <summary>Deterministic mode only: modelled time of each store round trip (a miss, a batch commit); 0: none.</summary>
    public TimeSpan StoreLatency { get; init; } = TimeSpan.Zero;
    /// <summary>Negative control, never for use: evict without checking that the store holds the version.</summary>
    public bool UnsafeEvictUnpersisted { get; init; }
    /// <summary>Negative control, never for use: integrate a key loaded from the store without loading its deps.</summary>
    public bool UnsafeLoadWithoutDeps { get; init; }
    /// <summary>Baselines (§8): how long a store partition collects new versions before it notifies the caches (one batch per interval).</summary>
    public TimeSpan NotificationInterval { get; init; } = TimeSpan.FromMicroseconds(200);
    /// <summary>Baselines: partitions of the versioned store, each on its own mailbox (0: one per server).</summary>
    public int StorePartitions { get; init; }
    /// <summary>Baselines: versions kept per key by the store and by each cache; an older one a transaction needs is gone, and it aborts.</summary>
    public int VersionHistory { get; init; } = 16;
    /// <summary>Negative control, never for use: hydro-opt reads its cache's cut without checking it against the upstream reads.</summary>
    public bool UnsafeSkipUpstreamCheck { get; init; }
    /// <summary>Negative control, never for use: hydro-con skips the all-cache join, and each function reads its own cache's cut (session writes ignored).</summary>
    public bool UnsafeNoJoin { get; init; }
    /// <summary>Negative control, never for use: faastcc reads the newest cached version without narrowing the snapshot interval.</summary>
    public bool UnsafeIgnoreInterval { get; init; }
    /// <summary>Seeds the default placement of functions on servers.</summary>
    public int Seed { get; init; } = 1;

    public void Validate()
    {
        if (Servers is < 1 or > 1024) throw new ArgumentException($"servers must be in 1..1024, not {Servers}");
        if (!Enum.IsDefined(Transport)) throw new ArgumentException($"transport {Transport} is not one of {string.Join(", ", Enum.GetNames<TransportKind>())}");
        if (LinkLatency < TimeSpan.Zero || RingJitter < TimeSpan.Zero || StoreLatency < TimeSpan.Zero) throw new ArgumentException("latencies cannot be negative");
        if (Capacity < 0) throw new ArgumentException($"capacity must be 0 (unbounded) or positive, not {Capacity}");
        if (Capacity > 0 && Durability == CausalDurability.None)
            throw new ArgumentException("a bounded C-cache (capacity) evicts only what the store holds: it needs durability write-behind or synchronous, and a store");
        if (Durability != CausalDurability.None && Protocol != CausalProtocol.CausalMesh)
            throw new ArgumentException($"durability through a store is built for causalmesh, not {Protocol}");
        if (TransactionVersions is < 0 or > 1024) throw new ArgumentException($"transaction versions must be in 0..1024, not {TransactionVersions}");
        if (TransactionAttempts is < 1 or > 1_000_000) throw new ArgumentException($"transaction attempts must be in 1..1000000, not {TransactionAttempts}");
        if (StorePartitions is < 0 or > 1024) throw new ArgumentException($"store partitions must be in 0..1024, not {StorePartitions}");
        if (VersionHistory < 1) throw new ArgumentException($"the version history keeps at least one version, not {VersionHistory}");
        if (NotificationInterval <= TimeSpan.Zero) throw new ArgumentException("the notification interval must be positive");
    }
}
