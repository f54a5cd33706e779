using Leasehold.Runtime.Causal;

namespace Leasehold.Baselines.Causal.Versioned;

/// <summary>One exact version of a key: the key and the write's own vector clock (unique per write: the writer ticks its entry).</summary>
public readonly record struct VersionId(StateKey Key, VectorClock Clock)
{
    public override string ToString() => $"{Key}@{Clock}";
}

/// <summary>
/// A version as the versioned store keeps it: the value with its clock and per-key deps (HydroCache's
/// lattice metadata, merged per key by <see cref="CausalVersion.Merge"/>), the exact versions a cache must
/// hold before it may show this one (<paramref name="Needs"/>: the causal cut's condition), and the
/// partition-issued timestamp (FaaSTCC orders and bounds validity by it; HydroCache ignores it).
/// </summary>
public sealed record StoredVersion(StateKey Key, CausalVersion Version, long Timestamp, IReadOnlyList<VersionId> Needs)
{
    public VersionId Id => new(Key, Version.Clock);
    public byte[]? Value => Version.Value;

    /// <summary>The same write: by clock under HydroCache (timestamps differ between copies made before and after the store), by timestamp under FaaSTCC (clocks are zero).</summary>
    public bool SameAs(StoredVersion other) => Version.Clock.IsZero && other.Version.Clock.IsZero ? Timestamp == other.Timestamp : Version.Clock.Equals(other.Version.Clock);

    /// <summary>The version every key has before anyone wrote it: clock zero, timestamp zero, nothing needed.</summary>
    public static StoredVersion Initial(StateKey key, byte[]? value, int servers) => new(key, CausalVersion.Initial(value, servers), 0, []);

    public override string ToString() => $"{Key}@{Version.Clock}/ts{Timestamp}";
}

/// <summary>What a partition tells a subscribed cache every notification interval: its new versions, and its promise (no version with a timestamp ≤ it will ever be installed there).</summary>
public sealed record StoreNotification(int Partition, IReadOnlyList<StoredVersion> Versions, long Promise);

/// <summary>A FaaSTCC read at the store: the version valid inside the asked interval, the last timestamp it is valid at, and the partition's promise then.</summary>
public readonly record struct TimedRead(StoredVersion? Version, long ValidUntil, long Promise);
