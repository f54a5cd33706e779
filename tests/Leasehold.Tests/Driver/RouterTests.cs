using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Driver;

namespace Leasehold.Tests.Driver;

/// <summary>Affinity-aware routing (§3): the slides' worked example for the summed score, and the prototype's per-key voting.</summary>
public class RouterTests
{
    private const int A = 0, B = 1, C = 2;

    /// <summary>The slides' table: affinities for {A,B,C} of (11, 3, 3) and loads N = (20, 26, 29).</summary>
    private static AccessStatistics SlidesStatistics()
    {
        var stats = new AccessStatistics(workers: 3, decay: 1.0);
        stats.Set(A, 0, 2); stats.Set(B, 0, 4); stats.Set(C, 0, 5);
        for (int w = 1; w < 3; w++)
        {
            stats.Set(A, w, 1); stats.Set(B, w, 1); stats.Set(C, w, 1);
        }
        stats.SetLoad(0, 20);
        stats.SetLoad(1, 26);
        stats.SetLoad(2, 29);
        return stats;
    }

    [Fact]
    public void The_slides_example_scores_2_one_third_0_and_routes_to_the_first_worker()
    {
        var stats = SlidesStatistics();
        var router = new Router(stats, RoutingPolicy.SummedScore, affinityWeight: 1, loadWeight: 1);
        var scores = new double[3];
        int best = router.BestScore([A, B, C], scores);

        Assert.Equal(0, best); // the slides' "worker 1"
        Assert.Equal(2.0, scores[0], precision: 9);
        Assert.Equal(1.0 / 3.0, scores[1], precision: 9);
        Assert.Equal(0.0, scores[2], precision: 9);
    }

    [Fact]
    public void Routing_records_the_assignment_in_the_statistics()
    {
        var stats = SlidesStatistics();
        var router = new Router(stats, RoutingPolicy.SummedScore, 1, 1);
        Assert.Equal(0, router.Route([A, B, C]));

        Assert.Equal(21, stats.Load(0));
        Assert.Equal(26, stats.Load(1));
        Assert.Equal(29, stats.Load(2));
        Assert.Equal(3, stats.Count(A, 0));
        Assert.Equal(5, stats.Count(B, 0));
        Assert.Equal(6, stats.Count(C, 0));
        for (int w = 1; w < 3; w++)
            foreach (int k in new[] { A, B, C }) Assert.Equal(1, stats.Count(k, w));
    }

    [Fact]
    public void Weights_shift_the_choice_between_affinity_and_load()
    {
        // Worker 2 has the keys but the highest load; worker 0 is idle.
        var stats = new AccessStatistics(3, 1.0);
        stats.Set(A, 2, 10);
        stats.SetLoad(0, 0); stats.SetLoad(1, 5); stats.SetLoad(2, 10);
        var scores = new double[3];
        Assert.Equal(2, new Router(stats, RoutingPolicy.SummedScore, affinityWeight: 1, loadWeight: 0).BestScore([A], scores));
        Assert.Equal(0, new Router(stats, RoutingPolicy.SummedScore, affinityWeight: 0, loadWeight: 1).BestScore([A], scores));
        // Equal weights: worker 2 scores 1 + 0, worker 0 scores 0 + 1: a tie goes to the lowest id.
        Assert.Equal(0, new Router(stats, RoutingPolicy.SummedScore, 1, 1).BestScore([A], scores));
        Assert.Equal(1.0, scores[0], 9);
        Assert.Equal(1.0, scores[2], 9);
    }

    [Fact]
    public void With_no_statistics_every_worker_scores_alike_and_the_lowest_id_wins()
    {
        var stats = new AccessStatistics(4, 1.0);
        var scores = new double[4];
        Assert.Equal(0, new Router(stats, RoutingPolicy.SummedScore, 1, 1).BestScore([A, B], scores));
        Assert.All(scores, s => Assert.Equal(2.0, s, 9));
    }

    [Fact]
    public void Per_key_voting_picks_the_worker_most_keys_vote_for()
    {
        // A and B vote for worker 1 (their top accessor), C votes for worker 0 by a mile. The summed
        // score follows C's huge count to worker 0; voting counts keys, so worker 1 wins 2 votes to 1.
        var stats = new AccessStatistics(3, 1.0);
        stats.Set(A, 0, 1); stats.Set(A, 1, 3);
        stats.Set(B, 1, 2); stats.Set(B, 2, 1);
        stats.Set(C, 0, 50); stats.Set(C, 1, 1);
        var scores = new double[3];

        Assert.Equal(1, new Router(stats, RoutingPolicy.PerKeyVoting, 1, 1).BestVote([A, B, C]));
        Assert.Equal(0, new Router(stats, RoutingPolicy.SummedScore, 1, 0).BestScore([A, B, C], scores));

        var voting = new Router(stats, RoutingPolicy.PerKeyVoting, 1, 1);
        Assert.Equal(1, voting.Route([A, B, C]));
        Assert.Equal(1, stats.Load(1));
        Assert.Equal(4, stats.Count(A, 1));
    }

    [Fact]
    public void Per_key_voting_breaks_a_tie_in_votes_by_lower_load_then_lower_id()
    {
        var stats = new AccessStatistics(3, 1.0);
        stats.Set(A, 0, 5);
        stats.Set(B, 2, 5);
        stats.SetLoad(0, 9); stats.SetLoad(1, 0); stats.SetLoad(2, 4);
        var voting = new Router(stats, RoutingPolicy.PerKeyVoting, 1, 1);
        Assert.Equal(2, voting.BestVote([A, B])); // one vote each for 0 and 2; worker 2 is less loaded

        stats.SetLoad(2, 9);
        Assert.Equal(0, voting.BestVote([A, B])); // equal loads: the lower id

        // Keys nobody has touched cast no vote: the least loaded worker takes the request.
        Assert.Equal(1, voting.BestVote([5, 6]));
    }
}
