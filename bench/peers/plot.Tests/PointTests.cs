namespace Leasehold.Peers.Tests;

public sealed class PointTests : IDisposable
{
    readonly PointFiles files = new();

    public void Dispose() => files.Dispose();

    [Fact]
    public void A_bench_result_written_as_an_array_reads_its_first_variant()
    {
        var p = Point.Read(files.Measured("leasehold", "memory-theta0", 64, 1234.5, p50: 2, p99: 7, asArray: true));

        Assert.True(p.Measured);
        Assert.Equal((1234.5, 2.0, 7.0, true), (p.Tps, p.P50Ms, p.P99Ms, p.InvariantOk));
    }

    [Fact]
    public void A_missing_point_keeps_its_reason_and_no_figures()
    {
        var p = Point.Read(files.Missing("redis-lua", "always", 256, "redis-benchmark not installed"));

        Assert.False(p.Measured);
        Assert.Equal("redis-benchmark not installed", p.Missing);
        Assert.Equal(0, p.Tps);
    }

    [Fact]
    public void A_file_with_neither_result_nor_missing_is_refused_naming_the_file()
    {
        string path = files.Write("redis-lua", "none", 16, "\"note\": 1");

        var e = Assert.Throws<InvalidDataException>(() => Point.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("result or missing", e.Message);
    }
}
