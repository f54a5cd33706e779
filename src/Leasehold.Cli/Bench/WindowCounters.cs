using System.Diagnostics;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Storage;

namespace Leasehold.Cli.Bench;

/// <summary>
/// The whole-process counters a measured window reports: taken at its start and at its end, and the
/// difference is the window's. One place names what is measured, so start and end cannot drift apart.
/// </summary>
internal readonly record struct WindowCounters(
    long Committed, long Batches, long Allocated, TimeSpan Cpu, long Posts, long Wakeups, long? Syncs,
    int Gen0, int Gen1, int Gen2, TimeSpan GcPause, long PhasedBatches, TimeSpan Logging, TimeSpan Executing, TimeSpan Committing)
{
    /// <param name="committed">commits seen so far by the bench's clients</param>
    /// <param name="syncs">the store's synced-write counter, when it keeps one</param>
    public static WindowCounters Take(SerializableCluster cluster, ISyncCounter? syncs, long committed) => new(
        committed, cluster.Counters.BatchesCommitted, GC.GetTotalAllocatedBytes(precise: false), ProcessCpu(),
        cluster.MailboxPosts, cluster.Wakeups, syncs?.SyncedWrites,
        GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration(),
        cluster.Counters.Phases.Batches, cluster.Counters.Phases.Logging, cluster.Counters.Phases.Executing, cluster.Counters.Phases.Committing);

    public static WindowCounters operator -(WindowCounters end, WindowCounters start) => new(
        end.Committed - start.Committed, end.Batches - start.Batches, end.Allocated - start.Allocated, end.Cpu - start.Cpu,
        end.Posts - start.Posts, end.Wakeups - start.Wakeups, end.Syncs - start.Syncs,
        end.Gen0 - start.Gen0, end.Gen1 - start.Gen1, end.Gen2 - start.Gen2, end.GcPause - start.GcPause,
        end.PhasedBatches - start.PhasedBatches, end.Logging - start.Logging, end.Executing - start.Executing, end.Committing - start.Committing);

    /// <summary>Mean milliseconds per batch committed in the window: logging, executing, committing (<see cref="Runtime.Serializable.BatchPhases"/>).</summary>
    public double[] PhaseMeansMs() => PhasedBatches == 0 ? [0, 0, 0]
        : [Logging.TotalMilliseconds / PhasedBatches, Executing.TotalMilliseconds / PhasedBatches, Committing.TotalMilliseconds / PhasedBatches];

    /// <summary>CPU time of every thread of the process so far (user and kernel).</summary>
    private static TimeSpan ProcessCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }
}
