namespace Leasehold.Baselines.Causal.Versioned;

/// <summary>
/// Which partition holds a key: FNV-1a over the table and key's UTF-16 code units. Not
/// <see cref="string.GetHashCode()"/>, which is randomized per process: placement must replay for a seed
/// and agree between runs.
/// </summary>
public static class StoreKeys
{
    public static ulong StableHash(StateKey key)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in key.Table) h = (h ^ c) * 1099511628211UL;
        h = (h ^ '/') * 1099511628211UL;
        foreach (char c in key.Key) h = (h ^ c) * 1099511628211UL;
        return h;
    }

    public static int PartitionOf(StateKey key, int partitions) => (int)(StableHash(key) % (ulong)partitions);
}
