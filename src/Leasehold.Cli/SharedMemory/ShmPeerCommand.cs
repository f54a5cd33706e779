using System.CommandLine;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Transport.SharedMemory;

namespace Leasehold.Cli.SharedMemory;

/// <summary>
/// A peer process on another process's shared region (hidden; started by the shared-memory tests and by
/// `shm-latency`). It maps the region file of --cluster/--node/--incarnation in --dir, prints "ready", waits for
/// a line on stdin, then runs its --mode:
/// <list type="bullet">
/// <item>race: compare-and-swap the flag of --slot from v to v + 1 until it reaches --rounds − 1, printing
///   "won v" for each swap it wins; then fetch-and-add 1 to the sequence of --slot + 1, --adds times, printing
///   "got old" for each. "done" at the end.</item>
/// <item>write: writes --slot with whole patterns of alternating lengths, forever (until killed), printing
///   "writing" after the first.</item>
/// <item>pong: answers --rounds pings on --slot's flag: waits for 2k + 1, swaps it to 2k + 2.</item>
/// </list>
/// </summary>
internal static class ShmPeerCommand
{
    public const string Name = "shm-peer";

    public static Command Create()
    {
        var dir = new Option<string>("--dir") { DefaultValueFactory = _ => ShmRegions.DefaultDirectory };
        var cluster = new Option<string>("--cluster") { Required = true };
        var node = new Option<int>("--node") { Required = true };
        var incarnation = new Option<int>("--incarnation") { Required = true };
        var mode = new Option<string>("--mode") { Required = true };
        mode.AcceptOnlyFromAmong("race", "write", "pong");
        var slot = new Option<int>("--slot") { DefaultValueFactory = _ => 0 };
        var rounds = new Option<int>("--rounds") { DefaultValueFactory = _ => 1000 };
        var adds = new Option<int>("--adds") { DefaultValueFactory = _ => 0 };
        var command = new Command(Name, "a peer process on a shared region, for the shared-memory tests") { dir, cluster, node, incarnation, mode, slot, rounds, adds };
        command.Hidden = true;
        command.SetAction(parse =>
        {
            SharedRegion region;
            try
            {
                var identity = new RegionFileIdentity(parse.GetValue(cluster)!, parse.GetValue(node), parse.GetValue(incarnation));
                region = SharedRegion.Open(ShmRegions.PathFor(parse.GetValue(dir)!, identity.Cluster, identity.Key), identity);
            }
            catch (Exception e) when (e is RegionFileException or ArgumentException)
            {
                Console.Error.WriteLine($"leasehold {Name}: {e.Message}");
                return ExitCodes.Usage;
            }
            using (region)
            {
                Console.Out.WriteLine("ready");
                Console.Out.Flush();
                if (Console.In.ReadLine() is null) return ExitCodes.Ok;
                int s = parse.GetValue(slot), n = parse.GetValue(rounds);
                switch (parse.GetValue(mode))
                {
                    case "race": Race(region, s, n, parse.GetValue(adds)); break;
                    case "write": WriteForever(region, s); break;
                    default: ShmPingPong.Pong(region, s, n); break;
                }
                Console.Out.WriteLine("done");
                return ExitCodes.Ok;
            }
        });
        return command;
    }

    private static void Race(SharedRegion region, int slot, int rounds, int adds)
    {
        var output = new System.Text.StringBuilder();
        while (true)
        {
            int seen = region.Flag(slot);
            if (seen >= rounds - 1) break;
            if (region.CompareAndSwapFlag(slot, seen, seen + 1)) output.Append("won ").Append(seen + 1).Append('\n');
        }
        for (int i = 0; i < adds; i++) output.Append("got ").Append(region.FetchAndAdd(slot + 1, 1)).Append('\n');
        Console.Out.Write(output.ToString());
    }

    private static void WriteForever(SharedRegion region, int slot)
    {
        // Made once, so nearly all of the loop's time is spent inside a write: a kill most likely lands mid-write.
        var patterns = Enumerable.Range(0, 4).Select(i => TornValuePatterns.Pattern(i, region.MaxValueBytes)).ToArray();
        bool first = true;
        for (long i = 0; ; i++)
        {
            region.WriteValue(slot, patterns[i % patterns.Length]);
            if (!first) continue;
            first = false;
            Console.Out.WriteLine("writing");
            Console.Out.Flush();
        }
    }
}
