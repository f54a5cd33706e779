using System.CommandLine;
using System.Diagnostics;
using HdrHistogram;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Transport.SharedMemory;

namespace Leasehold.Cli.SharedMemory;

/// <summary>
/// Measures one-sided operation latency (hidden): single operations (compare-and-swap, a 64-byte read) through
/// <see cref="OneSidedMemory"/> on an in-process region and through <see cref="ShmOneSided"/> on another
/// mapping of a shared region file; then a compare-and-swap ping-pong between two threads in process and
/// between this process and a child (`shm-peer --mode pong`) on a shared file. p50/p99 from HdrHistogram.
/// </summary>
internal static class ShmLatencyCommand
{
    public const string Name = "shm-latency";

    public static Command Create()
    {
        var dir = new Option<string>("--dir") { DefaultValueFactory = _ => ShmRegions.DefaultDirectory };
        var ops = new Option<int>("--ops") { DefaultValueFactory = _ => 200_000 };
        var rounds = new Option<int>("--rounds") { DefaultValueFactory = _ => 20_000 };
        var command = new Command(Name, "one-sided operation latency, in process and over shared memory") { dir, ops, rounds };
        command.Hidden = true;
        command.SetAction(parse => Run(parse.GetValue(dir)!, parse.GetValue(ops), parse.GetValue(rounds)));
        return command;
    }

    private static int Run(string dir, int ops, int rounds)
    {
        string cluster = $"latency{Environment.ProcessId}";
        var key = new RegionKey(0, 1);
        using var scheduler = new ThreadPoolScheduler();
        using var owner = new ShmOneSided(scheduler, cluster, dir, size: new SharedRegionSize(1024, 1 << 20));
        using var peer = new ShmOneSided(scheduler, cluster, dir);
        var shared = owner.CreateRegion(key, 4096);
        var inproc = new OneSidedMemory(scheduler, TimeSpan.Zero);
        inproc.Register(key, new RegionMemory(0, 4096));
        var value = new byte[64];
        inproc.TryReadAtOnce(key, 1, out _);
        Console.Out.WriteLine($"one-sided operation latency, {ops} operations each (ns, the mean of each batch of {Batch})");
        Console.Out.WriteLine($"{"operation",-56} {"p50",8} {"p99",8} {"p99.9",8}");
        foreach (var (name, memory) in new (string, IOneSided)[] { ("in process (OneSidedMemory)", inproc), ("shm, another mapping (ShmOneSided)", peer) })
        {
            var mailbox = scheduler.CreateMailbox("latency");
            if (memory == inproc) ((OneSidedMemory)memory).WriteValueThenFlag(key, 1, value, 0, mailbox, static _ => { }, mailbox);
            else shared.WriteValueThenFlag(1, value, 0);
            Print($"{name}: read 64 B", Measure(ops, () => memory.TryReadAtOnce(key, 1, out _)));
            int flag = 0;
            Print($"{name}: compare-and-swap", Measure(ops, () =>
            {
                memory.CompareAndSwapFlag(key, 2, flag - 1, flag, mailbox, static (_, _) => { }, mailbox);
                flag++;
            }));
        }
        Console.Out.WriteLine($"compare-and-swap ping-pong, {rounds} round trips (ns)");
        var local = new RegionMemory(0, 64);
        local.WriteFlag(3, 0);
        var pong = Task.Run(() => ShmPingPong.Pong(local, 3, rounds));
        Print("in process, two threads, RegionMemory", ShmPingPong.Ping(local, 3, rounds));
        pong.Wait();
        shared.WriteFlag(4, 0);
        Print("two processes, shared region file", PingChild(dir, cluster, key, rounds, shared));
        return ExitCodes.Ok;
    }

    private static LongHistogram PingChild(string dir, string cluster, RegionKey key, int rounds, SharedRegion shared)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") start.ArgumentList.Add(typeof(ShmLatencyCommand).Assembly.Location);
        foreach (var a in new[] { ShmPeerCommand.Name, "--dir", dir, "--cluster", cluster, "--node", $"{key.Node}", "--incarnation", $"{key.Incarnation}", "--mode", "pong", "--slot", "4", "--rounds", $"{rounds}" })
            start.ArgumentList.Add(a);
        using var child = Process.Start(start)!;
        if (child.StandardOutput.ReadLine() != "ready") throw new InvalidOperationException("the pong process did not start");
        child.StandardInput.WriteLine("go");
        child.StandardInput.Flush();
        var histogram = ShmPingPong.Ping(shared, 4, rounds);
        child.WaitForExit();
        return histogram;
    }

    /// <summary>The mean time of an operation in each batch of <see cref="Batch"/>: one operation is shorter than the clock's own cost.</summary>
    private static LongHistogram Measure(int ops, Action op)
    {
        for (int i = 0; i < ops / 10; i++) op(); // warm-up
        var histogram = new LongHistogram(10_000_000_000, 3);
        for (int b = 0; b < ops / Batch; b++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < Batch; i++) op();
            histogram.RecordValue(ShmPingPong.Nanoseconds(Stopwatch.GetTimestamp() - start) / Batch);
        }
        return histogram;
    }

    private const int Batch = 100;

    private static void Print(string name, LongHistogram h) =>
        Console.Out.WriteLine($"{name,-56} {h.GetValueAtPercentile(50),8} {h.GetValueAtPercentile(99),8} {h.GetValueAtPercentile(99.9),8}");
}
