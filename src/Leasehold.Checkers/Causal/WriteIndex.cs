namespace Leasehold.Checkers.Causal;

/// <summary>
/// Every committed write, grouped by key and then by chain, in chain order: the latest write of key k on
/// chain c at or before position p is one binary search. A read of k only visits the chains that wrote k.
/// Built with two stable counting sorts (by chain, then by key), linear in the writes.
/// </summary>
internal sealed class WriteIndex
{
    private readonly int[] _keyRanges;   // CSR over keys: ranges [_keyRanges[k], _keyRanges[k + 1])
    private readonly int[] _rangeChain;
    private readonly int[] _rangeStart;
    private readonly int[] _rangeEnd;
    private readonly int[] _pos;         // positions, sorted by (key, chain, position)
    private readonly int[] _write;       // the write at each slot

    public WriteIndex(CausalGraph g, OpInfo[] ops, int keys)
    {
        int n = g.Writes;
        // Write ids grow along each chain (they are handed out in lane order), so sorting by chain keeps positions ascending.
        var byChain = CountingSort(Enumerable.Range(0, n).ToArray(), w => g.WriteChain[w], g.Chains);
        var sorted = CountingSort(byChain, w => ops[g.WriteOp[w]].Key, keys);
        _pos = new int[n];
        _write = sorted;
        for (int i = 0; i < n; i++) _pos[i] = g.WritePos[sorted[i]];
        var chain = new List<int>();
        var start = new List<int>();
        _keyRanges = new int[keys + 1];
        int prevKey = -1, prevChain = -1;
        for (int i = 0; i < n; i++)
        {
            int key = ops[g.WriteOp[sorted[i]]].Key, c = g.WriteChain[sorted[i]];
            if (key == prevKey && c == prevChain) continue;
            chain.Add(c);
            start.Add(i);
            _keyRanges[key + 1]++;
            prevKey = key;
            prevChain = c;
        }
        for (int k = 0; k < keys; k++) _keyRanges[k + 1] += _keyRanges[k];
        _rangeChain = [.. chain];
        _rangeStart = [.. start];
        _rangeEnd = new int[start.Count];
        for (int r = 0; r < start.Count; r++) _rangeEnd[r] = r + 1 < start.Count ? start[r + 1] : n;
    }

    /// <summary>The ranges (one per chain that wrote the key): indices for <see cref="Chain"/> and <see cref="LatestAtOrBefore"/>.</summary>
    public (int From, int To) Ranges(int key) => (_keyRanges[key], _keyRanges[key + 1]);

    public int Chain(int range) => _rangeChain[range];

    /// <summary>The write of the range's key on its chain with the greatest position ≤ <paramref name="bound"/>, or −1.</summary>
    public int LatestAtOrBefore(int range, int bound)
    {
        int lo = _rangeStart[range], hi = _rangeEnd[range] - 1;
        if (_pos[lo] > bound) return -1;
        while (lo < hi)
        {
            int mid = lo + (hi - lo + 1) / 2;
            if (_pos[mid] <= bound) lo = mid; else hi = mid - 1;
        }
        return _write[lo];
    }

    private static int[] CountingSort(int[] items, Func<int, int> bucket, int buckets)
    {
        var counts = new int[buckets + 1];
        foreach (int x in items) counts[bucket(x) + 1]++;
        for (int b = 0; b < buckets; b++) counts[b + 1] += counts[b];
        var result = new int[items.Length];
        foreach (int x in items) result[counts[bucket(x)]++] = x;
        return result;
    }
}
