using Leasehold.Checkers.Causal;

namespace Leasehold.Tests.Checkers.Causal;

/// <summary>
/// A large valid causal history, the shape of the causal microbenchmark: every workflow is f0 and f1 (each
/// reading 2 keys, concurrently) joined by f2 (writing 1 key); 16 processes; keys drawn with a Zipf-like skew
/// (P(rank r) ∝ 1/(r + 1)). Functions run one at a time against one global map, in a random interleaving of the
/// processes' ready functions, so the history is sequentially consistent and hence causal. Records are written
/// in completion order, as a recorder would.
/// </summary>
internal static class CausalScaleHistory
{
    public static void Write(string path, int workflows, int processes = 16, int keys = 100_000, int seed = 1)
    {
        var rnd = new Random(seed);
        var map = new long[keys];           // 0: the initial value (written values start at 1)
        long nextValue = 1, nextWorkflow = 0;
        // Per process: its current workflow's id and seq, and which of its functions have run (bit i = f_i).
        var id = new long[processes];
        var seq = new long[processes];
        var ran = new int[processes];
        int started = 0;
        for (int p = 0; p < processes; p++) Start(p);
        using var recorder = new CausalHistoryRecorder(File.Create(path));
        var active = Enumerable.Range(0, processes).ToList();
        while (active.Count > 0)
        {
            int slot = rnd.Next(active.Count), p = active[slot];
            // f0 and f1 may run in either order; f2 only after both.
            int f = (ran[p] & 3) == 3 ? 2 : (ran[p] & 1) == 0 && ((ran[p] & 2) != 0 || rnd.Next(2) == 0) ? 0 : 1;
            CausalOp[] ops = f == 2
                ? [Written(Key())]
                : [Read(Key()), Read(Key())];
            recorder.Record(new CausalRecord(p, seq[p], id[p], f, f == 2 ? [0, 1] : [], true, ops) { Server = rnd.Next(4) });
            ran[p] |= 1 << f;
            if (ran[p] != 7) continue;
            if (started < workflows) Start(p);
            else active.RemoveAt(slot);
        }

        void Start(int p)
        {
            id[p] = nextWorkflow++;
            seq[p] = started < processes ? 0 : seq[p] + 1;
            ran[p] = 0;
            started++;
        }

        int Key() => (int)Math.Min(keys - 1, Math.Pow(keys + 1, rnd.NextDouble()) - 1);

        CausalOp Read(int key) => CausalOp.Read($"k{key}", map[key] == 0 ? null : map[key]);

        CausalOp Written(int key)
        {
            map[key] = nextValue++;
            return CausalOp.Write($"k{key}", map[key]);
        }
    }
}
