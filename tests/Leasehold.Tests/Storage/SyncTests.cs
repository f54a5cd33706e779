using System.Diagnostics;
using Leasehold.Runtime.Storage;
using Leasehold.Storage.Postgres;
using Leasehold.Storage.RocksDb;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Storage;

/// <summary>Alone: the sync counts below must not include other tests' syncs.</summary>
[CollectionDefinition(nameof(SyncCounting), DisableParallelization = true)]
public sealed class SyncCounting;

/// <summary>
/// The durable engines really sync before a commit is acknowledged. RocksDB: a bench in a child process
/// under strace makes at least one fsync/fdatasync per committed batch, and not many more (the batch log and
/// the commit records share syncs), while the same bench on the memory store makes (nearly) none. PostgreSQL: after each acknowledged commit the server's WAL is flushed past
/// where it stood before, while after unsynced version writes it is not yet. Each has a negative control,
/// so the check can fail.
/// </summary>
[Collection(nameof(SyncCounting))]
public sealed class SyncTests
{
    private const int Rounds = 20;

    [SkippableFact]
    public async Task RocksDb_bench_syncs_at_least_once_per_committed_batch_and_the_memory_store_does_not()
    {
        ExternalServer.RequireOrSkip(File.Exists("/usr/bin/strace") ? null : "strace is not installed (apt-get install strace)");
        string dir = Path.Combine(Path.GetTempPath(), $"leasehold-sync-{Environment.ProcessId}");
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        try
        {
            var (rocksSyncs, rocksBatches) = await TracedBench($"rocksdb:{dir}");
            var (memorySyncs, memoryBatches) = await TracedBench("memory");
            Assert.True(rocksBatches > 20, $"the rocksdb run committed only {rocksBatches} batches");
            Assert.True(rocksSyncs >= rocksBatches, $"{rocksBatches} committed batches made {rocksSyncs} fsync/fdatasync calls: a commit was acknowledged before it was on disk");
            // Group commit: a batch's logged input and its predecessor's commit record share one sync, so a busy
            // run makes about one per batch, not the two of logging and committing apart (the slack covers the
            // syncs of opening, loading, claiming and the batch clock's reservations).
            Assert.True(rocksSyncs <= 1.5 * rocksBatches + 50, $"{rocksBatches} committed batches made {rocksSyncs} fsync/fdatasync calls: the batch log and the commit records are not sharing syncs");
            // The negative control: the same run on the memory store syncs (nearly) never, so the count can fail.
            Assert.True(memorySyncs < memoryBatches / 2, $"the memory store's {memoryBatches} batches made {memorySyncs} syncs: the count cannot tell a syncing engine from one that does not");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    /// <summary>A short bench in a child process under strace: its sync calls and committed batches.</summary>
    private static async Task<(long Syncs, long Batches)> TracedBench(string store)
    {
        string log = Path.Combine(Path.GetTempPath(), $"leasehold-strace-{Environment.ProcessId}-{store.Length}.log");
        string json = log + ".json";
        var dll = Path.Combine(AppContext.BaseDirectory, "Leasehold.Cli.dll");
        var start = new ProcessStartInfo("strace", ["-f", "-qq", "-e", "trace=fsync,fdatasync", "-o", log, "dotnet", dll, "bench",
            "--store", store, "--keys", "1000", "--clients", "64", "--duration", "1", "--min-committed", "2000", "--warmup", "0", "--quiet", "--json", json])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var child = Process.Start(start)!;
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await child.WaitForExitAsync(timeout.Token);
        Assert.True(child.ExitCode == 0, $"bench under strace failed: {await stdout}{await stderr}");
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
        long batches = doc.RootElement.GetProperty("batches_committed").GetInt64();
        long syncs = File.ReadLines(log).Count(l => l.Contains("fsync(") || l.Contains("fdatasync("));
        File.Delete(log);
        File.Delete(json);
        return (syncs, batches);
    }

    [SkippableFact]
    public async Task Postgres_commits_flush_the_wal_and_version_writes_do_not()
    {
        await ExternalServer.RequirePostgresOrSkipAsync();
        var store = await PostgresStateStore.OpenAsync(ExternalServer.Postgres, $"sync_{Environment.ProcessId}");
        await using (store)
        {
            try
            {
                await store.LoadAsync([new(new StateKey("t", "k"), Value.FromLong(0))]);
                // After a commit is acknowledged, the server's WAL must be flushed past the point where it began;
                // after an unsynced version write it usually is not yet (the WAL writer flushes every 200 ms).
                await using var data = Npgsql.NpgsqlDataSource.Create(ExternalServer.Postgres);
                int unflushedWrites = 0;
                for (int b = 1; b <= Rounds; b++)
                {
                    await store.WriteVersionsAsync(b, [new(new StateKey("t", $"k{b}"), new byte[4096])]);
                    if (!await Flushed(data)) unflushedWrites++;
                }
                for (int b = 1; b <= Rounds; b++)
                {
                    string before = await Scalar(data, "SELECT pg_current_wal_insert_lsn()::text");
                    await store.CommitAsync(b);
                    Assert.True(await Scalar(data, $"SELECT (pg_current_wal_flush_lsn() > '{before}'::pg_lsn)::text") == "true",
                        $"batch {b}'s commit was acknowledged before the server flushed its WAL");
                }
                Assert.True(unflushedWrites > 0, "every unsynced version write was already flushed when it returned: the check cannot tell synced from unsynced commits");
            }
            finally
            {
                await store.DropAsync();
            }
        }
    }

    private static async Task<string> Scalar(Npgsql.NpgsqlDataSource data, string sql)
    {
        await using var cmd = data.CreateCommand(sql);
        return (string)(await cmd.ExecuteScalarAsync())!;
    }

    private static async Task<bool> Flushed(Npgsql.NpgsqlDataSource data) =>
        await Scalar(data, "SELECT (pg_current_wal_flush_lsn() >= pg_current_wal_insert_lsn())::text") == "true";
}
