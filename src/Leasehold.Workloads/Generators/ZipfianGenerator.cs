namespace Leasehold.Workloads.Generators;

/// <summary>
/// Zipfian ranks over [0, n) with skew θ (θ = 0 is uniform; any θ ≥ 0 works, 1 and above included):
/// P(i) ∝ 1 / (i + 1)^θ, drawn by binary search over the precomputed cumulative distribution.
/// Deterministic given the caller's random source.
/// </summary>
public sealed class ZipfianGenerator
{
    private readonly double[] _cdf;

    public ZipfianGenerator(int n, double theta)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "a key space needs at least one key");
        if (theta < 0 || double.IsNaN(theta)) throw new ArgumentOutOfRangeException(nameof(theta), theta, "θ must be ≥ 0");
        N = n;
        Theta = theta;
        _cdf = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += theta == 0 ? 1 : 1 / Math.Pow(i + 1, theta);
            _cdf[i] = sum;
        }
        for (int i = 0; i < n; i++) _cdf[i] /= sum;
        _cdf[n - 1] = 1;
    }

    public int N { get; }
    public double Theta { get; }

    public int Next(Random random)
    {
        double u = random.NextDouble();
        int i = Array.BinarySearch(_cdf, u);
        return i >= 0 ? i : Math.Min(~i, N - 1);
    }

    /// <summary>A second rank different from <paramref name="other"/> (N must be at least 2).</summary>
    public int NextOtherThan(Random random, int other)
    {
        if (N < 2) throw new InvalidOperationException("two distinct keys need a key space of at least two");
        for (int attempt = 0; attempt < 64; attempt++)
        {
            int i = Next(random);
            if (i != other) return i;
        }
        int j = random.Next(N - 1);
        return j >= other ? j + 1 : j;
    }
}
