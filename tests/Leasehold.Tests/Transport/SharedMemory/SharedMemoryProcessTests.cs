using Leasehold.Cli.SharedMemory;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Transport.SharedMemory;
using Xunit.Abstractions;

namespace Leasehold.Tests.Transport.SharedMemory;

/// <summary>The shared region across real processes (`leasehold shm-peer` children on this test's file).</summary>
public class SharedMemoryProcessTests(ITestOutputHelper output)
{
    private static readonly RegionKey Key = new(Node: 0, Incarnation: 1);

    [Fact]
    public async Task Compare_and_swap_from_three_processes_has_exactly_one_winner_per_value_and_their_fetch_and_adds_total_exactly()
    {
        const int rounds = 30_000, adds = 20_000, processes = 3;
        using var dir = new ShmTestDirectory();
        using var region = dir.Create("race", Key);
        var peers = new List<PeerProcess>();
        try
        {
            for (int p = 0; p < processes; p++)
                peers.Add(await PeerProcess.StartAsync(dir, "race", Key, "--mode", "race", "--slot", "1", "--rounds", $"{rounds}", "--adds", $"{adds}"));
            foreach (var peer in peers) peer.Go(); // all mapped before any starts
            var results = await Task.WhenAll(peers.Select(p => p.FinishAsync()));

            Assert.All(results, r => Assert.Equal(0, r.ExitCode));
            var won = results.Select(r => r.Lines.Where(l => l.StartsWith("won ")).Select(l => int.Parse(l[4..])).ToList()).ToList();
            output.WriteLine($"values won per process: {string.Join(", ", won.Select(w => w.Count))}");
            Assert.Equal(Enumerable.Range(0, rounds), won.SelectMany(w => w).Order());
            var got = results.SelectMany(r => r.Lines.Where(l => l.StartsWith("got ")).Select(l => ulong.Parse(l[4..])));
            Assert.Equal(Enumerable.Range(0, processes * adds).Select(i => (ulong)i), got.Order());
            Assert.Equal((ulong)(processes * adds), region.Header(2).Sequence);
            Assert.Equal(rounds - 1, region.Flag(1));
        }
        finally
        {
            foreach (var peer in peers) peer.Dispose();
        }
    }

    [Fact]
    public async Task A_writer_process_killed_mid_write_makes_readers_fail_with_the_slot_named_never_return_a_torn_value()
    {
        const int max = 8 << 20;
        using var dir = new ShmTestDirectory();
        bool killedMidWrite = false;
        // The kill is sent while the slot is seen mid-write; it may still land between two writes (then the last
        // whole value must read back), so the test tries again until one lands mid-write.
        for (int attempt = 1; attempt <= 10 && !killedMidWrite; attempt++)
        {
            var key = new RegionKey(0, attempt);
            using var region = dir.Create("kill", key, maxValueBytes: max, size: new SharedRegionSize(16, 4L * max));
            using var writer = await PeerProcess.StartAsync(dir, "kill", key, "--mode", "write", "--slot", "1");
            writer.Go();
            await writer.ExpectLineAsync("writing");
            var spin = new SpinWait();
            while (region.SeqlockForTest(1) % 2 == 0) spin.SpinOnce(sleep1Threshold: -1);
            await writer.KillAsync();

            try
            {
                Assert.True(TornValuePatterns.IsWhole(region.Read(1).Value, max), "a read after the kill returned a torn value");
                output.WriteLine($"attempt {attempt}: killed between writes; the last whole value reads back");
            }
            catch (SlotWriteStuckException e)
            {
                killedMidWrite = true;
                output.WriteLine($"attempt {attempt}: {e.Message}");
                Assert.Equal(1, e.Slot);
                Assert.Contains($"node 0, incarnation {attempt}", e.Message);
                Assert.Throws<SlotWriteStuckException>(() => region.WriteValue(1, [1])); // no writer gets in either
            }
        }
        Assert.True(killedMidWrite, "no kill landed mid-write in 10 attempts");
    }
}
