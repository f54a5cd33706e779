using System.Runtime.InteropServices;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Storage.RocksDb;
using Leasehold.Tests.Support;
using Leasehold.Workloads.JepsenBank;

namespace Leasehold.Tests.Storage;

/// <summary>
/// A full disk under the RocksDB store: the bench stops with one line that names the cause and a
/// non-zero exit, writes no result, and the store it leaves reopens with its committed state intact.
/// The disk is a small tmpfs mounted for the test, almost filled by a filler file. Mounting needs
/// root (CAP_SYS_ADMIN) on Linux: without that privilege (EPERM, EACCES), or off Linux, the test is
/// skipped, in CI too, since such a machine cannot run it at all; any other reason mounting fails is
/// skipped on a developer's machine but fails in CI (CI=true), where it would mean the test silently
/// stopped testing on a machine that should run it.
/// </summary>
public sealed class FullDiskTests : IDisposable
{
    private const long DiskBytes = 8L << 20;
    private const long LeftFree = 1L << 20;
    private readonly string _mountPoint = Directory.CreateTempSubdirectory("leasehold-full-disk-").FullName;
    private readonly string _elsewhere = Directory.CreateTempSubdirectory("leasehold-full-disk-out-").FullName;
    private bool _mounted;

    [SkippableFact]
    public async Task A_full_disk_stops_the_bench_naming_the_cause_and_leaves_the_committed_state_readable()
    {
        SkipOrFail(TryMount());
        string filler = Path.Combine(_mountPoint, "filler");
        FillLeaving(filler, LeftFree);
        string db = Path.Combine(_mountPoint, "db");
        string json = Path.Combine(_elsewhere, "result.json");

        // Jepsen's bank: every transfer keeps the total at 100, so any committed state must sum to it.
        var run = await CliProcess.RunAsync("bench", "--workload", "bank", "--store", $"rocksdb:{db}", "--clients", "16",
            "--duration", "30", "--warmup", "0", "--quiet", "--json", json);

        AssertFailedNamingTheFullDisk(run, json);
        Assert.Contains("the cluster stopped: the rocksdb store failed", run.Stderr);

        // Room again: the store reopens, and its last committed batch is whole.
        File.Delete(filler);
        await using var store = RocksDbStateStore.Open(db);
        long lastCommitted = await store.LastCommittedAsync();
        Assert.True(lastCommitted > 0, "the run committed nothing before the disk filled: the test did not test");
        await AssertBankTotal(store);

        // The next start recovers from it (discards uncommitted versions, re-executes logged batches) and serves.
        using var scheduler = new ThreadPoolScheduler();
        var cluster = new SerializableCluster(new ClusterOptions { Workers = 2 }, scheduler, store);
        var workload = new JepsenBankWorkload();
        foreach (var w in workload.Workflows) cluster.Register(w);
        // Liveness bounds, generous for a loaded machine: a hang fails the test instead of stalling the run.
        await cluster.StartAsync().WaitAsync(TimeSpan.FromMinutes(2));
        var read = await cluster.InvokeAsync(JepsenBankWorkload.FullRead, Args.Empty).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(read.Status == WorkflowStatus.Committed, $"{read.Status}: {read.Reason}");
        workload.Observe(JepsenBankWorkload.FullRead, Args.Empty, read);
        var invariant = await workload.CheckAsync(store);
        Assert.True(invariant.Ok, invariant.Detail);
        Assert.True(await store.LastCommittedAsync() > lastCommitted);
        Assert.Null(cluster.StopReason);
        Assert.Null(scheduler.Fault);
    }

    [SkippableFact]
    public async Task A_disk_that_fills_while_the_initial_state_loads_is_named_the_same_way()
    {
        SkipOrFail(TryMount());
        string filler = Path.Combine(_mountPoint, "filler");
        FillLeaving(filler, LeftFree);
        string db = Path.Combine(_mountPoint, "db");
        string json = Path.Combine(_elsewhere, "result.json");

        // 100,000 accounts take a few MiB: more than is left.
        var run = await CliProcess.RunAsync("bench", "--workload", "banking", "--keys", "100000", "--store", $"rocksdb:{db}",
            "--duration", "30", "--warmup", "0", "--quiet", "--json", json);

        AssertFailedNamingTheFullDisk(run, json);
        Assert.Contains("loading the initial state into the rocksdb store failed", run.Stderr);
        File.Delete(filler);
        await using var store = RocksDbStateStore.Open(db); // still a store, with nothing committed
        Assert.Equal(0, await store.LastCommittedAsync());
    }

    /// <summary>Exit 1, one line on stderr naming the store and RocksDB's ENOSPC error, no stack trace, no result.</summary>
    private static void AssertFailedNamingTheFullDisk(CliProcess.Outcome run, string json)
    {
        string all = $"exit {run.ExitCode}\nstdout: {run.Stdout}\nstderr: {run.Stderr}";
        Assert.True(run.ExitCode == 1, all); // a failed run, not a usage error (2) and not a success (0)
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, all);
        Assert.StartsWith("leasehold bench: ", lines[0]);
        Assert.Contains("rocksdb store", lines[0]);
        Assert.Contains("No space left on device", lines[0]); // RocksDB's own IO error comes through
        Assert.DoesNotContain("Exception", run.Stderr + run.Stdout); // no crash dump...
        Assert.DoesNotContain("   at ", run.Stderr + run.Stdout);
        Assert.DoesNotContain("throughput", run.Stdout); // ...and no summary of a "finished" run
        // The --json path is probed (created empty) before the run; a failed run writes nothing into it.
        Assert.True(!File.Exists(json) || new FileInfo(json).Length == 0, $"a result was written: {(File.Exists(json) ? File.ReadAllText(json) : "")}");
    }

    private static async Task AssertBankTotal(RocksDbStateStore store)
    {
        long total = 0;
        int rows = 0;
        await foreach (var (key, value) in store.ScanCommittedAsync(JepsenBankWorkload.Table))
        {
            long balance = Value.ToLong(value);
            Assert.True(balance >= 0, $"{key} = {balance}");
            total += balance;
            rows++;
        }
        Assert.Equal(JepsenBankWorkload.AccountCount, rows);
        Assert.Equal(JepsenBankWorkload.Total, total);
    }

    /// <summary>Writes real bytes (a sparse file would take no room on tmpfs) until <paramref name="leave"/> bytes are free.</summary>
    private void FillLeaving(string path, long leave)
    {
        long fill = new DriveInfo(_mountPoint).AvailableFreeSpace - leave;
        Assert.True(fill > 0, $"the tmpfs has only {new DriveInfo(_mountPoint).AvailableFreeSpace} bytes free");
        var chunk = new byte[1 << 16];
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
            for (long written = 0; written < fill; written += chunk.Length)
                file.Write(chunk, 0, (int)Math.Min(chunk.Length, fill - written));
        long free = new DriveInfo(_mountPoint).AvailableFreeSpace;
        Assert.True(free <= leave + (64 << 10), $"{free} bytes still free after the filler");
    }

    /// <summary>Skips without the privilege to mount (in CI too); any other failure skips locally and fails in CI.</summary>
    private static void SkipOrFail((string Reason, bool SkipInCi)? failure)
    {
        if (failure is not { } f) return;
        if (ExternalServer.InCi && !f.SkipInCi)
            throw new Xunit.Sdk.XunitException($"cannot make a full disk: {f.Reason}");
        Skip.If(true, $"cannot make a full disk: {f.Reason}");
    }

    /// <summary>Null when mounted; otherwise why not, and whether CI may skip for it (no privilege, or not Linux).</summary>
    private (string Reason, bool SkipInCi)? TryMount()
    {
        if (!OperatingSystem.IsLinux()) return ("a tmpfs can be mounted only on Linux", true);
        int result;
        try { result = mount("tmpfs", _mountPoint, "tmpfs", 0, $"size={DiskBytes},mode=0700"); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return ($"libc mount(2) is not callable: {e.Message}", false); }
        if (result == 0)
        {
            _mounted = true;
            return null;
        }
        int errno = Marshal.GetLastPInvokeError();
        string why = $"mount -t tmpfs on {_mountPoint} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
        return errno is EPERM or EACCES
            ? ($"{why}; mounting needs root (CAP_SYS_ADMIN), which this process lacks", true)
            : (why, false);
    }

    public void Dispose()
    {
        if (_mounted && umount2(_mountPoint, 0) != 0)
            umount2(_mountPoint, MNT_DETACH); // still busy (a leaked handle): detach it anyway
        Directory.Delete(_mountPoint, recursive: true);
        Directory.Delete(_elsewhere, recursive: true);
    }

    private const int EPERM = 1, EACCES = 13, MNT_DETACH = 2;

    [DllImport("libc", SetLastError = true)]
    private static extern int mount(string source, string target, string filesystemType, nuint flags, string data);

    [DllImport("libc", SetLastError = true)]
    private static extern int umount2(string target, int flags);
}
