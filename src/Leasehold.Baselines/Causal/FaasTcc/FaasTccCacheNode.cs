using Leasehold.Baselines.Causal.Versioned;
using Leasehold.Runtime.Causal;

namespace Leasehold.Baselines.Causal.FaasTcc;

/// <summary>
/// One FaaSTCC cache, co-located with a worker. It learns timestamped versions from the store's batched
/// notifications, keeps the last few per key in timestamp order, and each partition's latest promise. A
/// version is known valid from its timestamp until just before the next one it knows of, and never beyond
/// its partition's promise — sound because a batch carries every version at or below the promise it
/// carries, while above it a commit decided late may still land between two known versions (the checker
/// caught "until the next one" alone). Runs on its mailbox.
/// </summary>
internal sealed class FaasTccCacheNode(int id, CausalOptions options, BaselineNode node, VersionedStore store, Func<StateKey, byte[]?> initial)
{
    private readonly Dictionary<StateKey, KeyVersions> _keys = [];
    private readonly long[] _promise = new long[store.Partitions.Count];

    public int Id { get; } = id;
    public BaselineNode Node { get; } = node;

    private sealed class KeyVersions
    {
        public readonly List<StoredVersion> Versions = []; // ascending timestamp
        public bool Trimmed;
    }

    public long PromiseOf(int partition) => _promise[partition];

    public void Receive(StoreNotification notification)
    {
        foreach (var v in notification.Versions) Insert(v);
        _promise[notification.Partition] = Math.Max(_promise[notification.Partition], notification.Promise);
    }

    private void Insert(StoredVersion v)
    {
        if (!_keys.TryGetValue(v.Key, out var k)) _keys[v.Key] = k = new KeyVersions();
        int at = k.Versions.Count;
        while (at > 0 && k.Versions[at - 1].Timestamp > v.Timestamp) at--;
        if (at > 0 && k.Versions[at - 1].Timestamp == v.Timestamp) return;
        k.Versions.Insert(at, v);
        if (k.Versions.Count > options.VersionHistory)
        {
            k.Versions.RemoveAt(0);
            k.Trimmed = true;
        }
    }

    /// <summary>The newest cached version valid somewhere in [low, high], with the last timestamp it is valid at; null: none cached.</summary>
    public (StoredVersion Version, long ValidUntil)? Find(StateKey key, long low, long high)
    {
        long promise = _promise[store.PartitionOf(key).Index];
        if (!_keys.TryGetValue(key, out var k) || k.Versions.Count == 0)
            return low <= promise ? (StoredVersion.Initial(key, initial(key), options.Servers), promise) : null;
        for (int i = k.Versions.Count - 1; i >= 0; i--)
        {
            var v = k.Versions[i];
            // A commit decided late may land between two versions known here, but never at or below the promise;
            // and never at the version's own timestamp (no two versions of a key share one), so it is valid at least there.
            long until = Math.Max(v.Timestamp, i + 1 < k.Versions.Count ? Math.Min(k.Versions[i + 1].Timestamp - 1, promise) : promise);
            if (v.Timestamp > high) continue;
            return until >= low ? (v, until) : null; // older versions end before this one starts
        }
        if (k.Trimmed) return null;
        long first = Math.Min(k.Versions[0].Timestamp - 1, promise);
        return first >= low ? (StoredVersion.Initial(key, initial(key), options.Servers), first) : null;
    }

    /// <summary>The newest version cached, validity aside (the negative control reads this).</summary>
    public StoredVersion Newest(StateKey key) =>
        _keys.TryGetValue(key, out var k) && k.Versions.Count > 0 ? k.Versions[^1] : StoredVersion.Initial(key, initial(key), options.Servers);
}
