using Leasehold.Cli.SharedMemory;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Tests.Transport.SharedMemory;

/// <summary>
/// Real concurrency on two mappings of one file (two virtual addresses, one set of pages, as two processes
/// have): threads on each race, and every read must be whole. Timeouts are hang guards only.
/// </summary>
public class SharedRegionConcurrencyTests
{
    private static readonly RegionKey Key = new(Node: 2, Incarnation: 1);
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task A_reader_on_another_mapping_never_sees_a_torn_value_while_a_writer_alternates_lengths()
    {
        const int max = 4096, writes = 20_000;
        using var dir = new ShmTestDirectory();
        using var writer = dir.Create("c", Key, maxValueBytes: max);
        using var reader = dir.Open("c", Key);
        writer.WriteValue(1, TornValuePatterns.Pattern(0, max));
        int done = 0;
        var write = Task.Run(() =>
        {
            for (int i = 1; i <= writes; i++) writer.WriteValue(1, TornValuePatterns.Pattern(i, max));
            Volatile.Write(ref done, 1);
        });
        var reads = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            var buffer = new byte[max]; // each reader's own
            long count = 0;
            while (Volatile.Read(ref done) == 0)
            {
                var value = reader.Read(1).Value;
                Assert.True(TornValuePatterns.IsWhole(value, max), $"read {count} was torn: {value?.Length} bytes");
                Assert.True(reader.TryRead(1, buffer, out _, out int length));
                Assert.True(TornValuePatterns.IsWhole(buffer[..length], max), $"read {count} into a buffer was torn");
                count++;
            }
            return count;
        })).ToArray();
        await Task.WhenAll([write, .. reads]).WaitAsync(HangGuard);
        Assert.True(TornValuePatterns.IsWhole(reader.Read(1).Value, max));
    }

    [Fact]
    public async Task A_reader_that_sees_a_flag_sees_the_value_written_before_it()
    {
        const int writes = 50_000;
        using var dir = new ShmTestDirectory();
        using var writer = dir.Create("c", Key);
        using var reader = dir.Open("c", Key);
        var write = Task.Run(() =>
        {
            for (int i = 0; i < writes; i++)
            {
                writer.WriteValueThenFlag(1, BitConverter.GetBytes(i), flag: i); // one operation
                writer.WriteValue(2, BitConverter.GetBytes(i));                  // two operations: value, then flag
                writer.WriteFlag(3, i);
            }
        });
        var read = Task.Run(() =>
        {
            int last = RegionMemory.NoOwner;
            while (last < writes - 1)
            {
                int flag = reader.Flag(3);
                if (flag != RegionMemory.NoOwner) Assert.True(BitConverter.ToInt32(reader.Read(2).Value) >= flag, $"flag {flag} was visible before its value");
                var both = reader.Read(1);
                if (both.Flag != RegionMemory.NoOwner) Assert.Equal(both.Flag, BitConverter.ToInt32(both.Value));
                last = flag;
            }
        });
        await Task.WhenAll(write, read).WaitAsync(HangGuard);
    }

    [Fact]
    public async Task Compare_and_swap_has_one_winner_per_value_and_fetch_and_add_loses_nothing_across_mappings()
    {
        const int rounds = 40_000, adds = 20_000, threads = 4;
        using var dir = new ShmTestDirectory();
        using var first = dir.Create("c", Key);
        using var second = dir.Open("c", Key);
        var results = await Task.WhenAll(Enumerable.Range(0, threads).Select(t => Task.Run(() =>
        {
            var region = t % 2 == 0 ? first : second;
            var won = new List<int>();
            var got = new List<ulong>();
            for (int seen = region.Flag(1); seen < rounds - 1; seen = region.Flag(1))
            {
                if (region.CompareAndSwapFlag(1, seen, seen + 1)) won.Add(seen + 1);
                if (got.Count < adds) got.Add(region.FetchAndAdd(2, 1));
            }
            while (got.Count < adds) got.Add(region.FetchAndAdd(2, 1));
            return (won, got);
        }))).WaitAsync(HangGuard);

        Assert.Equal(Enumerable.Range(0, rounds), results.SelectMany(r => r.won).Order());
        Assert.Equal(Enumerable.Range(0, threads * adds).Select(i => (ulong)i), results.SelectMany(r => r.got).Order());
        Assert.Equal((ulong)(threads * adds), first.Header(2).Sequence);
        Assert.Equal((ulong)rounds, second.Header(1).Sequence); // one bump per winning swap
    }

    [Fact]
    public async Task Writers_on_two_mappings_allocating_and_freeing_extents_never_share_one()
    {
        const int slotsPerThread = 300, threads = 4;
        using var dir = new ShmTestDirectory();
        using var first = dir.Create("c", Key, maxValueBytes: 4096);
        using var second = dir.Open("c", Key);
        await Task.WhenAll(Enumerable.Range(0, threads).Select(t => Task.Run(() =>
        {
            var region = t % 2 == 0 ? first : second;
            for (int size = 50; size <= 4096; size *= 2) // every step outgrows the extent: a move, and a free into a shared list
                for (int s = 0; s < slotsPerThread; s++)
                {
                    int slot = t * slotsPerThread + s;
                    region.WriteValue(slot, Fill(slot, size));
                }
        }))).WaitAsync(HangGuard);

        var extents = new List<(long Offset, int Capacity)>();
        for (int slot = 0; slot < threads * slotsPerThread; slot++)
        {
            Assert.Equal(Fill(slot, 3200), first.Read(slot).Value);
            var h = second.Header(slot);
            extents.Add((h.Offset, h.Capacity));
        }
        var sorted = extents.OrderBy(e => e.Offset).ToList();
        for (int i = 1; i < sorted.Count; i++) Assert.True(sorted[i - 1].Offset + sorted[i - 1].Capacity <= sorted[i].Offset, $"extents {sorted[i - 1]} and {sorted[i]} overlap");
    }

    private static byte[] Fill(int slot, int size)
    {
        var value = new byte[size];
        Array.Fill(value, (byte)(slot * 31 + size));
        return value;
    }
}
