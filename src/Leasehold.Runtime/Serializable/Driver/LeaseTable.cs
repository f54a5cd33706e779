namespace Leasehold.Runtime.Serializable.Driver;

/// <summary>
/// Decides leaseholders at the end of each batch (§3): for every key the batch touches, the worker with
/// the highest decayed count, ties to the lowest id; the current holder keeps the lease unless a
/// challenger beats it by the hysteresis margin, so leases do not flap.
/// </summary>
internal sealed class LeaseTable(AccessStatistics statistics, double hysteresis)
{
    private int[] _holders = [];

    public int HolderOf(int keyId) => keyId < _holders.Length ? _holders[keyId] - 1 : -1;

    /// <summary>Re-executing a logged batch: the holder is the one the log names; the previous holder is this table's.</summary>
    public LeaseEntry Place(int keyId, StateKey key, int holder, bool written)
    {
        Grow(keyId);
        int previous = _holders[keyId] - 1;
        _holders[keyId] = holder + 1;
        return new LeaseEntry(keyId, key, holder, previous, written);
    }

    private void Grow(int keyId)
    {
        if (keyId >= _holders.Length) Array.Resize(ref _holders, Math.Max(keyId + 1, Math.Max(1024, _holders.Length * 2)));
    }

    public LeaseEntry Assign(int keyId, StateKey key, bool written)
    {
        Grow(keyId);
        int previous = _holders[keyId] - 1;
        int best = 0;
        double bestCount = statistics.Count(keyId, 0);
        for (int i = 1; i < statistics.Workers; i++)
        {
            double c = statistics.Count(keyId, i);
            if (c > bestCount) { best = i; bestCount = c; }
        }
        int holder = previous < 0 || (best != previous && bestCount > statistics.Count(keyId, previous) + hysteresis) ? best : previous;
        _holders[keyId] = holder + 1;
        return new LeaseEntry(keyId, key, holder, previous, written);
    }
}
