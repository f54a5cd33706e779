namespace Leasehold.Peers;

/// <summary>
/// The comparisons issue 14 is judged by: Leasehold's best throughput over a peer's best, each at its
/// own best client count. Series ids are the system/setting pairs compare.sh writes.
/// </summary>
public sealed record Target(string Name, string Leasehold, string Peer, double AtLeast)
{
    public static readonly IReadOnlyList<Target> All =
    [
        new("in-memory θ 0 vs Redis-Lua, no persistence", "leasehold/memory-theta0", "redis-lua/none", 1.2),
        new("durable θ 0.99 (RocksDB) vs Redis-Lua, appendfsync always", "leasehold/rocksdb-theta0.99", "redis-lua/always", 1.5),
        new("durable θ 0 (RocksDB) vs Redis-Lua, appendfsync always (same uniform keys)", "leasehold/rocksdb-theta0", "redis-lua/always", 1.5),
        new("durable θ 0.99 (RocksDB) vs PostgreSQL, synchronous_commit on", "leasehold/rocksdb-theta0.99", "postgresql/sync-zipf", 5),
        new("in-memory θ 0.99 vs Orleans transactions (in-memory storage)", "leasehold/memory-theta0.99", "orleans/memory-theta0.99", 10),
        new("RocksDB θ 0.99 vs Leasehold in memory θ 0.99", "leasehold/rocksdb-theta0.99", "leasehold/memory-theta0.99", 0.7),
    ];
}
