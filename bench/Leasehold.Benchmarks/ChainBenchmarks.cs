using BenchmarkDotNet.Attributes;
using Leasehold.Runtime.Serializable.Worker;

namespace Leasehold.Benchmarks;

/// <summary>
/// One key's operation chain: <see cref="OperationChain.Insert"/> of <see cref="ChainEntry"/> objects in
/// mostly ascending (ts, position) order — about 5% arrive 1–8 places late, as virtual vertices and lease
/// transitions do — then <see cref="OperationChain.PopHead"/> of every entry in order. One operation is one
/// insert plus one pop (OperationsPerInvoke = the chain's depth). Entries are allocated once in set-up, so
/// only the chain's own cost is measured. Depth 16 is a key with a few operations per batch; 1024 a hot key.
/// </summary>
[MemoryDiagnoser]
public class ChainBenchmarks
{
    private const int Shallow = 16;
    private const int Deep = 1024;
    private Sequence _shallow = null!;
    private Sequence _deep = null!;
    private OperationChain _shallowChain = null!;
    private OperationChain _deepChain = null!;

    /// <summary>The entries of one chain in (ts, position) order and in arrival order.</summary>
    private sealed class Sequence
    {
        public readonly ChainEntry[] Sorted;
        public readonly ChainEntry[] Arrival;

        public Sequence(int depth, int seed)
        {
            Sorted = new ChainEntry[depth];
            for (int j = 0; j < depth; j++)
                Sorted[j] = new ChainEntry(EntryKind.Local, ts: 1 + j / 2, position: j % 2, batch: 1, keyId: 7) { Peer = 0 };
            var order = Enumerable.Range(0, depth).ToArray();
            var random = new Random(seed);
            int late = 0;
            for (int j = 0; j < depth - 1; j++)
            {
                if (random.NextDouble() >= 0.05) continue;
                int k = Math.Min(depth - 1, j + 1 + random.Next(8));
                (order[j], order[k]) = (order[k], order[j]); // entry j now arrives after the later ones it displaced
                late++;
            }
            if (late == 0) // a shallow chain may draw none: force one late arrival so the backward scan runs
                (order[depth / 2], order[depth / 2 + 1]) = (order[depth / 2 + 1], order[depth / 2]);
            Arrival = order.Select(j => Sorted[j]).ToArray();
        }

        public void InsertAndDrain(OperationChain chain)
        {
            foreach (var entry in Arrival) chain.Insert(entry);
            foreach (var entry in Sorted) chain.PopHead(entry);
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        _shallow = new Sequence(Shallow, seed: 42);
        _deep = new Sequence(Deep, seed: 43);
        _shallowChain = new OperationChain();
        _deepChain = new OperationChain();
        _shallow.InsertAndDrain(_shallowChain); // sizes the long-lived chains
        _deep.InsertAndDrain(_deepChain);
    }

    /// <summary>A long-lived chain (each key keeps its chain for the life of the worker): the steady state.</summary>
    [Benchmark(OperationsPerInvoke = Shallow)]
    public int Reused_Depth16()
    {
        _shallow.InsertAndDrain(_shallowChain);
        return _shallowChain.Count;
    }

    [Benchmark(OperationsPerInvoke = Deep)]
    public int Reused_Depth1024()
    {
        _deep.InsertAndDrain(_deepChain);
        return _deepChain.Count;
    }

    /// <summary>A new chain (a key seen for the first time): adds the chain object and the growth of its array (4, 8, 16, …).</summary>
    [Benchmark(OperationsPerInvoke = Shallow)]
    public int Fresh_Depth16()
    {
        var chain = new OperationChain();
        _shallow.InsertAndDrain(chain);
        return chain.Count;
    }

    [Benchmark(OperationsPerInvoke = Deep)]
    public int Fresh_Depth1024()
    {
        var chain = new OperationChain();
        _deep.InsertAndDrain(chain);
        return chain.Count;
    }
}
