namespace Leasehold.Runtime.Serializable.Driver;

/// <summary>
/// The statistics table of §3: per worker, N_i (requests assigned) and N_i(k) (accesses to k by
/// requests assigned to i). Counts decay by a factor every batch, applied lazily when a row is touched,
/// so a batch costs nothing per idle key; rows that decay to nothing are pruned, which bounds memory.
/// </summary>
internal sealed class AccessStatistics
{
    private const double PruneBelow = 1e-3;
    private readonly int _workers;
    private readonly double _decay;
    private readonly double[] _powers = new double[64];
    private readonly double[] _load;
    private Row?[] _rows = new Row?[1024];
    private int _rowCount;
    private long _epoch;

    private sealed class Row(int workers)
    {
        public readonly double[] Counts = new double[workers];
        public long Epoch;
    }

    public AccessStatistics(int workers, double decay)
    {
        _workers = workers;
        _decay = decay;
        _load = new double[workers];
        for (int i = 0; i < _powers.Length; i++) _powers[i] = Math.Pow(decay, i);
    }

    public int Workers => _workers;
    public long Epoch => _epoch;
    /// <summary>Rows currently held: bounded by the keys touched within the decay horizon.</summary>
    public int RowCount => _rowCount;

    public double Load(int worker) => _load[worker];

    /// <summary>The decayed N_worker(key).</summary>
    public double Count(int keyId, int worker)
    {
        var row = RowOf(keyId, create: false);
        return row is null ? 0 : row.Counts[worker];
    }

    /// <summary>Sets a count directly (tests build the slides' statistics table this way).</summary>
    public void Set(int keyId, int worker, double count) => RowOf(keyId, create: true)!.Counts[worker] = count;

    public void SetLoad(int worker, double load) => _load[worker] = load;

    /// <summary>Adds one request with keys <paramref name="keyIds"/> to <paramref name="worker"/>.</summary>
    public void Record(int worker, ReadOnlySpan<int> keyIds)
    {
        _load[worker] += 1;
        foreach (int k in keyIds) RowOf(k, create: true)!.Counts[worker] += 1;
    }

    /// <summary>Ends a batch: every count decays by the factor (lazily for key rows), and every 256 batches dead rows go.</summary>
    public void AdvanceEpoch()
    {
        _epoch++;
        for (int i = 0; i < _workers; i++) _load[i] *= _decay;
        if ((_epoch & 255) == 0) Prune();
    }

    private Row? RowOf(int keyId, bool create)
    {
        if (keyId >= _rows.Length)
        {
            if (!create) return null;
            Array.Resize(ref _rows, Math.Max(keyId + 1, _rows.Length * 2));
        }
        var row = _rows[keyId];
        if (row is null)
        {
            if (!create) return null;
            _rows[keyId] = row = new Row(_workers) { Epoch = _epoch };
            _rowCount++;
            return row;
        }
        long gap = _epoch - row.Epoch;
        if (gap > 0)
        {
            double factor = gap < _powers.Length ? _powers[gap] : Math.Pow(_decay, gap);
            for (int i = 0; i < row.Counts.Length; i++) row.Counts[i] *= factor;
            row.Epoch = _epoch;
        }
        return row;
    }

    private void Prune()
    {
        for (int k = 0; k < _rows.Length; k++)
        {
            var row = RowOf(k, create: false);
            if (row is null) continue;
            double max = 0;
            foreach (var c in row.Counts) max = Math.Max(max, c);
            if (max < PruneBelow)
            {
                _rows[k] = null;
                _rowCount--;
            }
        }
    }
}
