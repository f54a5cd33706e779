namespace Leasehold.Peers.Tests;

public sealed class SummaryTests : IDisposable
{
    readonly PointFiles files = new();

    public void Dispose() => files.Dispose();

    [Fact]
    public void The_best_point_is_the_highest_throughput_not_the_most_clients()
    {
        files.Measured("postgresql", "sync-zipf", 16, 5600, p99: 13.6);
        files.Measured("postgresql", "sync-zipf", 64, 3700, p99: 335);
        files.Measured("postgresql", "sync-zipf", 1024, 900, p99: 4000);

        var best = Assert.Single(files.Series()).Best;

        Assert.NotNull(best);
        Assert.Equal(16, best.Clients);
        Assert.Equal(13.6, best.P99Ms);
    }

    [Fact]
    public void A_target_ratio_divides_each_systems_best_at_its_own_client_count()
    {
        files.Measured("leasehold", "memory-theta0", 64, 30_000);
        files.Measured("leasehold", "memory-theta0", 1024, 90_000);
        files.Measured("redis-lua", "none", 16, 60_000);
        files.Measured("redis-lua", "none", 1024, 45_000);

        string table = Summary.Render(files.Series());

        Assert.Contains("| in-memory θ 0 vs Redis-Lua, no persistence | 90,000 (1024) | 60,000 (16) | 1.50× | ≥ 1.2× | yes |", table);
    }

    [Fact]
    public void A_target_below_its_bar_is_marked_not_met()
    {
        files.Measured("leasehold", "rocksdb-theta0.99", 64, 10_000);
        files.Measured("postgresql", "sync-zipf", 16, 5_000);

        string table = Summary.Render(files.Series());

        Assert.Contains("| 10,000 (64) | 5,000 (16) | 2.00× | ≥ 5.0× | **no** |", table);
    }

    [Fact]
    public void A_missing_peer_is_named_with_its_reason_in_both_tables()
    {
        files.Measured("leasehold", "memory-theta0.99", 64, 20_000);
        files.Missing("orleans", "memory-theta0.99", 16, "build failed, see logs/orleans-build.log");
        files.Missing("orleans", "memory-theta0.99", 64, "build failed, see logs/orleans-build.log");

        string table = Summary.Render(files.Series());

        Assert.Contains("| orleans memory-theta0.99 | — | missing: build failed, see logs/orleans-build.log |", table);
        Assert.Contains("| 20,000 (64) | — | — | ≥ 10.0× | not measured: orleans/memory-theta0.99: build failed, see logs/orleans-build.log |", table);
        Assert.Contains("tx/s at 16 / 64 clients", table);
    }

    [Fact]
    public void A_run_that_broke_its_invariant_meets_no_target_whatever_its_ratio()
    {
        files.Measured("leasehold", "memory-theta0", 64, 100_000, invariantOk: false);
        files.Measured("redis-lua", "none", 16, 50_000);

        string table = Summary.Render(files.Series());

        Assert.Contains("| 2.00× | ≥ 1.2× | **no**: an invariant broke |", table);
        Assert.Contains("| BROKEN |", table);
    }

    [Fact]
    public void Leasehold_at_the_default_client_count_is_reported_even_when_it_is_not_its_best()
    {
        files.Measured("leasehold", "rocksdb-theta0.99", 64, 12_000, p50: 4.5, p99: 9.25);
        files.Measured("leasehold", "rocksdb-theta0.99", 1024, 40_000, p50: 20, p99: 80);

        string table = Summary.Render(files.Series());

        Assert.Contains("| leasehold rocksdb-theta0.99 | 12,000 | 4.50 | 9.25 |", table);
    }

    [Fact]
    public void An_open_loop_point_is_judged_by_its_p99_and_kept_out_of_the_best_client_tables()
    {
        files.Measured("leasehold", "rocksdb-theta0.99", 64, 12_000);
        files.Write("leasehold", "rocksdb-half-peak", 0,
            "\"result\": {\"rate\": 6000, \"throughput_tps\": 5990, \"latency_ms\": {\"p50\": 3, \"p99\": 12.5}, \"invariant\": {\"ok\": true}}");

        string table = Summary.Render(files.Series());

        Assert.Contains("| leasehold rocksdb-half-peak | 6,000 | 5,990 | 3.00 | 12.5 | **no** |", table);
        Assert.DoesNotContain("| leasehold rocksdb-half-peak | 0 |", table);
    }

    [Fact]
    public void A_target_with_both_sides_absent_names_both()
    {
        files.Missing("redis-lua", "none", 16, "redis-benchmark not installed");

        string table = Summary.Render(files.Series());

        Assert.Contains("not measured: leasehold/memory-theta0: not in this run; redis-lua/none: redis-benchmark not installed |", table);
    }
}
