using BenchmarkDotNet.Attributes;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Driver;
using Leasehold.Workloads.Generators;

namespace Leasehold.Benchmarks;

/// <summary>
/// Shared set-up of the driver's tables: 4 workers and a statistics table with a row for each of
/// 100,000 keys, warmed by routing 200,000 Zipfian (θ = 0.99) requests with an epoch every 1,000
/// (the driver's batch cadence at the default batch size), so counts carry the affinity a real run builds.
/// </summary>
internal static class DriverFixture
{
    public const int Keys = 100_000;
    public const int Workers = 4;
    public const double Decay = 0.98;
    public const double Theta = 0.99;
    public const int RequestPool = 4096; // a power of two: requests are picked by index & (pool − 1)

    public static AccessStatistics PopulatedStatistics(int seed = 1)
    {
        var statistics = new AccessStatistics(Workers, Decay);
        for (int k = 0; k < Keys; k++) statistics.Set(k, k % Workers, 1.0);
        var warm = new Router(statistics, RoutingPolicy.SummedScore, 1.0, 1.0);
        var zipf = new ZipfianGenerator(Keys, Theta);
        var random = new Random(seed);
        Span<int> keys = stackalloc int[3];
        for (int i = 0; i < 200_000; i++)
        {
            int n = NextRequest(zipf, random, keys);
            warm.Route(keys[..n]);
            if ((i + 1) % 1000 == 0) statistics.AdvanceEpoch();
        }
        if (statistics.RowCount != Keys) throw new InvalidOperationException($"expected {Keys} statistics rows, found {statistics.RowCount}");
        return statistics;
    }

    /// <summary>A pool of requests of 2 or 3 distinct Zipfian keys.</summary>
    public static int[][] Requests(int seed = 2)
    {
        var zipf = new ZipfianGenerator(Keys, Theta);
        var random = new Random(seed);
        var requests = new int[RequestPool][];
        Span<int> keys = stackalloc int[3];
        for (int i = 0; i < requests.Length; i++) requests[i] = keys[..NextRequest(zipf, random, keys)].ToArray();
        return requests;
    }

    private static int NextRequest(ZipfianGenerator zipf, Random random, Span<int> into)
    {
        int n = 2 + random.Next(2);
        for (int i = 0; i < n; i++)
        {
            int k;
            do k = zipf.Next(random); while (into[..i].IndexOf(k) >= 0);
            into[i] = k;
        }
        return n;
    }
}

/// <summary>
/// Routing one request (§3): <see cref="Router.Route"/> scores the 4 workers over the request's 2–3 keys,
/// picks one, and records the assignment in the statistics (the load and one count per key).
/// </summary>
[MemoryDiagnoser]
public class RoutingBenchmarks
{
    private const int BatchSize = 1000;
    private Router _router = null!;
    private AccessStatistics _statistics = null!;
    private int[][] _requests = null!;
    private int _next;

    [Params(RoutingPolicy.SummedScore, RoutingPolicy.PerKeyVoting)]
    public RoutingPolicy Policy { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _statistics = DriverFixture.PopulatedStatistics();
        _router = new Router(_statistics, Policy, affinityWeight: 1.0, loadWeight: 1.0);
        _requests = DriverFixture.Requests();
    }

    /// <summary>One request: decide and record. The statistics table stays at 100,000 rows (no epochs pass).</summary>
    [Benchmark]
    public int Route() => _router.Route(_requests[_next++ & (DriverFixture.RequestPool - 1)]);

    /// <summary>
    /// 1,000 requests then <see cref="AccessStatistics.AdvanceEpoch"/>, as the driver does per batch: adds the
    /// lazy decay of rows touched for the first time in an epoch and, every 256 epochs, the prune of dead rows.
    /// </summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public int RouteBatchWithEpoch()
    {
        int sum = 0;
        for (int i = 0; i < BatchSize; i++) sum += _router.Route(_requests[_next++ & (DriverFixture.RequestPool - 1)]);
        _statistics.AdvanceEpoch();
        return sum;
    }
}

/// <summary>Assigning one key's lease at the end of a batch (§3): argmax over the workers' decayed counts, with hysteresis.</summary>
[MemoryDiagnoser]
public class LeaseTableBenchmarks
{
    private LeaseTable _leases = null!;
    private StateKey[] _keys = null!;
    private int[] _keyIds = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var statistics = DriverFixture.PopulatedStatistics();
        _leases = new LeaseTable(statistics, hysteresis: 1.0);
        _keys = Enumerable.Range(0, DriverFixture.Keys).Select(i => new StateKey("accounts", $"acct-{i}")).ToArray();
        // Every key has had a holder once, so the table is sized and the steady-state path (a previous holder) runs.
        for (int k = 0; k < DriverFixture.Keys; k++) _leases.Assign(k, _keys[k], written: false);
        _keyIds = DriverFixture.Requests().SelectMany(r => r).Take(DriverFixture.RequestPool).ToArray();
        if (_keyIds.Length != DriverFixture.RequestPool) throw new InvalidOperationException("the key pool is short");
    }

    [Benchmark]
    public int Assign()
    {
        int i = _next++ & (DriverFixture.RequestPool - 1);
        int keyId = _keyIds[i];
        return _leases.Assign(keyId, _keys[keyId], written: (i & 1) == 0).Holder;
    }
}
