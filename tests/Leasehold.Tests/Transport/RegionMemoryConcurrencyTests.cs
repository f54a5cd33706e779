using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Tests.Transport;

/// <summary>
/// The region's atomicity on real threads. Outcomes are counts, identical on every run whatever the
/// interleaving; nothing here measures or waits on time.
/// </summary>
public class RegionMemoryConcurrencyTests
{
    [Fact]
    public void Compare_and_swap_increments_from_many_threads_lose_none()
    {
        const int threads = 4, increments = 20_000;
        var region = new RegionMemory(owner: 0);
        region.WriteFlag(7, 0);
        RunOnThreads(threads, () =>
        {
            for (int i = 0; i < increments; i++)
            {
                int seen;
                do seen = region.Flag(7);
                while (!region.CompareAndSwapFlag(7, seen, seen + 1));
            }
        });
        Assert.Equal(threads * increments, region.Flag(7));
        Assert.Equal((ulong)(threads * increments + 1), region.Header(7).Sequence); // one bump per swap, plus the first write
    }

    [Fact]
    public void A_reader_that_sees_a_writers_flag_sees_the_value_written_with_it()
    {
        // The writer stores value i then flag i, moving between extent classes so values relocate as well as
        // being rewritten in place; readers on other threads must never see a flag with another write's value.
        const int writes = 20_000;
        var region = new RegionMemory(owner: 0);
        int mismatches = 0;
        bool done = false;
        using var start = new Barrier(3); // the readers are running before the first write, whatever the machine's load
        var writer = () =>
        {
            start.SignalAndWait();
            for (int i = 0; i < writes; i++) region.WriteValueThenFlag(3, Value(i), flag: i);
            Volatile.Write(ref done, true);
        };
        var reader = () =>
        {
            start.SignalAndWait();
            while (!Volatile.Read(ref done))
            {
                var read = region.Read(3);
                if (read.Flag >= 0 && !read.Value.AsSpan().SequenceEqual(Value(read.Flag))) Interlocked.Increment(ref mismatches);
            }
        };
        RunOnThreads([writer, reader, reader]);
        Assert.Equal(0, mismatches);
        Assert.Equal(writes - 1, region.Read(3).Flag);
        Assert.Equal(Value(writes - 1), region.Read(3).Value);
    }

    private static byte[] Value(int i) => RegionMemoryTests.Filled(8 + i % 300, (byte)i);

    private static void RunOnThreads(int count, Action work) => RunOnThreads([.. Enumerable.Repeat(work, count)]);

    private static void RunOnThreads(Action[] work)
    {
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var threads = work.Select(w => new Thread(() =>
        {
            try { w(); }
            catch (Exception e) { errors.Enqueue(e); }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Empty(errors);
    }
}
