using Leasehold.Runtime.Serializable;
using Leasehold.Workloads;

namespace Leasehold.Tests.Support;

/// <summary>
/// Runs a workload in the deterministic mode as a closed loop: <c>clients</c> requests outstanding, each
/// answer observed before the next request is generated, so workloads that learn from results (the
/// cycle's known ring) see them as the bench's clients would.
/// </summary>
public static class ClosedLoopWorkloadRun
{
    public static SimulatedCluster Run(IWorkload workload, int seed, ClusterOptions options, int requests, int clients)
    {
        var sim = new SimulatedCluster(seed, options, workload.InitialState(), [.. workload.Workflows]);
        var random = new Random(seed);
        int submitted = 0;
        void SubmitNext()
        {
            if (submitted == requests) return;
            submitted++;
            var (workflow, args) = workload.Next(random);
            sim.Submit(workflow, args, result =>
            {
                workload.Observe(workflow, args, result);
                SubmitNext();
            });
        }
        for (int c = 0; c < clients; c++) SubmitNext();
        sim.RunToCompletion();
        return sim;
    }

    /// <summary>
    /// The options of the engine tests: small batches, 7 µs one-sided operations and links. With
    /// <paramref name="spread"/> the router weighs load far above affinity: over a handful of hot keys the
    /// default weights keep (nearly) everything on one worker, which leaves the cross-worker paths idle.
    /// </summary>
    public static ClusterOptions Options(ProtocolKind protocol, int workers, bool spread = false) => new()
    {
        Workers = workers, Protocol = protocol, MaxBatchSize = 8,
        RemoteOpLatency = TimeSpan.FromMicroseconds(7), LinkLatency = TimeSpan.FromMicroseconds(7),
        AffinityWeight = spread ? 0.2 : 1, LoadWeight = spread ? 3 : 1,
    };

    /// <summary>Accesses that left their leaseholder, plus lease moves: evidence the run crossed workers.</summary>
    public static long CrossWorker(SimulatedCluster sim) => sim.Cluster.Counters.RemoteAccesses + sim.Cluster.Counters.LeaseTransfers;
}
