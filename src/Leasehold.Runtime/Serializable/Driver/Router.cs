namespace Leasehold.Runtime.Serializable.Driver;

/// <summary>
/// Affinity-aware routing (§3): a request goes to the worker whose cached objects it touches most,
/// balanced against load, and the statistics learn from the choice.
/// </summary>
internal sealed class Router(AccessStatistics statistics, RoutingPolicy policy, double affinityWeight, double loadWeight)
{
    public AccessStatistics Statistics => statistics;

    /// <summary>Picks the worker for a request with distinct keys <paramref name="keyIds"/> and records the assignment.</summary>
    public int Route(ReadOnlySpan<int> keyIds)
    {
        Span<double> scores = stackalloc double[Math.Min(statistics.Workers, 256)];
        int worker = policy == RoutingPolicy.SummedScore
            ? BestScore(keyIds, statistics.Workers <= 256 ? scores : new double[statistics.Workers])
            : BestVote(keyIds);
        statistics.Record(worker, keyIds);
        return worker;
    }

    /// <summary>The summed score F_i = w_A·A'_i + w_L·L'_i; the argmax wins, ties to the lowest id.</summary>
    public int BestScore(ReadOnlySpan<int> keyIds, Span<double> scores)
    {
        int n = statistics.Workers;
        Span<double> affinity = n <= 64 ? stackalloc double[n] : new double[n];
        double minA = double.MaxValue, maxA = double.MinValue, minN = double.MaxValue, maxN = double.MinValue;
        for (int i = 0; i < n; i++)
        {
            double a = 0;
            foreach (int k in keyIds) a += statistics.Count(k, i);
            affinity[i] = a;
            minA = Math.Min(minA, a);
            maxA = Math.Max(maxA, a);
            double load = statistics.Load(i);
            minN = Math.Min(minN, load);
            maxN = Math.Max(maxN, load);
        }
        int best = 0;
        for (int i = 0; i < n; i++)
        {
            double a = maxA == minA ? 1 : (affinity[i] - minA) / (maxA - minA);
            double l = maxN == minN ? 1 : 1 - (statistics.Load(i) - minN) / (maxN - minN);
            scores[i] = affinityWeight * a + loadWeight * l;
            if (scores[i] > scores[best]) best = i;
        }
        return best;
    }

    /// <summary>Per-key voting: each key votes for the worker that accesses it most; most votes win, then lower load, then lower id.</summary>
    public int BestVote(ReadOnlySpan<int> keyIds)
    {
        int n = statistics.Workers;
        Span<int> votes = n <= 256 ? stackalloc int[n] : new int[n];
        votes.Clear();
        foreach (int k in keyIds)
        {
            int top = -1;
            double topCount = 0;
            for (int i = 0; i < n; i++)
            {
                double c = statistics.Count(k, i);
                if (c > topCount) { top = i; topCount = c; }
            }
            if (top >= 0) votes[top]++;
        }
        int best = 0;
        for (int i = 1; i < n; i++)
            if (votes[i] > votes[best] || (votes[i] == votes[best] && statistics.Load(i) < statistics.Load(best))) best = i;
        return best;
    }
}
