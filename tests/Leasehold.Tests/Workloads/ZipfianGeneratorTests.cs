using Leasehold.Workloads.Generators;

namespace Leasehold.Tests.Workloads;

/// <summary>The Zipfian key generator: uniform at θ = 0, skewed at θ = 0.99, NextOtherThan never returns the excluded rank, and seeded replay.</summary>
public class ZipfianGeneratorTests
{
    private static int[] Histogram(ZipfianGenerator zipf, int draws, int seed)
    {
        var random = new Random(seed);
        var counts = new int[zipf.N];
        for (int i = 0; i < draws; i++) counts[zipf.Next(random)]++;
        return counts;
    }

    [Fact]
    public void Theta_zero_is_roughly_uniform()
    {
        var counts = Histogram(new ZipfianGenerator(20, 0), 200_000, seed: 1);
        // 10,000 expected per rank; the standard deviation is about 100.
        Assert.All(counts, c => Assert.InRange(c, 9_400, 10_600));
    }

    [Fact]
    public void Theta_099_puts_rank_0_far_above_rank_100()
    {
        var counts = Histogram(new ZipfianGenerator(1000, 0.99), 200_000, seed: 2);
        // P(0) / P(100) = 101^0.99 ≈ 96.
        Assert.True(counts[0] > 30 * Math.Max(1, counts[100]), $"rank 0: {counts[0]}, rank 100: {counts[100]}");
        Assert.True(counts[0] > counts[1] && counts[1] > counts[10], $"ranks 0, 1, 10: {counts[0]}, {counts[1]}, {counts[10]}");
        Assert.True(counts.Sum() == 200_000 && counts.All(c => c >= 0));
    }

    [Fact]
    public void Draws_stay_in_range()
    {
        foreach (var theta in new[] { 0.0, 0.5, 0.99, 1.0, 2.5 })
        {
            var zipf = new ZipfianGenerator(7, theta);
            var random = new Random(3);
            for (int i = 0; i < 20_000; i++) Assert.InRange(zipf.Next(random), 0, 6);
        }
    }

    [Theory]
    [InlineData(1000, 0.99, 0)]
    [InlineData(2, 0.99, 0)]
    [InlineData(2, 0.0, 1)]
    [InlineData(5, 0.0, 4)]
    [InlineData(2, 40.0, 0)] // rank 0 takes nearly all the mass: the fallback after 64 tries must still avoid it
    public void NextOtherThan_never_returns_the_excluded_rank(int n, double theta, int excluded)
    {
        var zipf = new ZipfianGenerator(n, theta);
        var random = new Random(4);
        var seen = new HashSet<int>();
        for (int i = 0; i < 20_000; i++)
        {
            int r = zipf.NextOtherThan(random, excluded);
            Assert.NotEqual(excluded, r);
            Assert.InRange(r, 0, n - 1);
            seen.Add(r);
        }
        if (n == 2) Assert.Equal([1 - excluded], seen);
    }

    [Fact]
    public void NextOtherThan_needs_two_keys()
    {
        Assert.Throws<InvalidOperationException>(() => new ZipfianGenerator(1, 0.5).NextOtherThan(new Random(1), 0));
    }

    [Fact]
    public void The_same_seed_gives_the_same_sequence()
    {
        var zipf = new ZipfianGenerator(10_000, 0.99);
        Assert.Equal(Draw(zipf, 42), Draw(zipf, 42));
        Assert.Equal(Draw(zipf, 42), Draw(new ZipfianGenerator(10_000, 0.99), 42)); // a fresh generator: no hidden state
        Assert.NotEqual(Draw(zipf, 42), Draw(zipf, 43));
    }

    private static int[] Draw(ZipfianGenerator zipf, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, 1000).Select(i => i % 3 == 0 ? zipf.NextOtherThan(random, 0) : zipf.Next(random)).ToArray();
    }
}
