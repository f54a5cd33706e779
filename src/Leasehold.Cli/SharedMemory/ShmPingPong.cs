using System.Diagnostics;
using HdrHistogram;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Cli.SharedMemory;

/// <summary>
/// A ping-pong on one slot's flag: the pinger swaps 2k → 2k + 1 and waits to see 2k + 2, which the ponger swaps
/// in once it sees 2k + 1. One round trip is two compare-and-swaps and the reads that find them. The waits spin
/// briefly and then yield (<see cref="SpinWait"/> without sleeps), for a bounded number of rounds only.
/// </summary>
internal static class ShmPingPong
{
    /// <summary>Round-trip times in nanoseconds. The flag must start at 0.</summary>
    public static LongHistogram Ping(IRegion region, int slot, int rounds)
    {
        var histogram = new LongHistogram(10_000_000_000, 3);
        for (int k = 0; k < rounds; k++)
        {
            long start = Stopwatch.GetTimestamp();
            if (!region.CompareAndSwapFlag(slot, 2 * k, 2 * k + 1)) throw new InvalidOperationException($"round {k}: the flag was not {2 * k}");
            AwaitFlag(region, slot, 2 * k + 2);
            histogram.RecordValue(Nanoseconds(Stopwatch.GetTimestamp() - start));
        }
        return histogram;
    }

    public static void Pong(IRegion region, int slot, int rounds)
    {
        for (int k = 0; k < rounds; k++)
        {
            AwaitFlag(region, slot, 2 * k + 1);
            if (!region.CompareAndSwapFlag(slot, 2 * k + 1, 2 * k + 2)) throw new InvalidOperationException($"round {k}: the flag was not {2 * k + 1}");
        }
    }

    public static long Nanoseconds(long ticks) => ticks * 1_000_000_000 / Stopwatch.Frequency;

    private static void AwaitFlag(IRegion region, int slot, int flag)
    {
        var spin = new SpinWait();
        while (region.Flag(slot) != flag) spin.SpinOnce(sleep1Threshold: -1);
    }
}
