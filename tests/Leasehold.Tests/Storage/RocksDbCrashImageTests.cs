using Leasehold.Runtime.Storage;
using Leasehold.Storage.RocksDb;

namespace Leasehold.Tests.Storage;

/// <summary>
/// The RocksDB store reopened from a crash image (its files copied while it was open, as a killed process leaves
/// them): the versions the last commit superseded were still waiting for the next commit to delete them, a batch
/// was written but not committed, and the new process has seen none of the keys. Reads, a discard, further
/// commits (which find the older versions of unseen keys themselves, or use what a read found first) and a
/// second reopen all show exactly the committed state.
/// </summary>
public sealed class RocksDbCrashImageTests
{
    private static readonly StateKey K = new("t", "k");
    private static readonly StateKey J = new("t", "j");

    /// <summary>The files of an open store, as a crash leaves them (RocksDB's LOCK file is the process's, not the data's).</summary>
    private static void CopyDir(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) if (Path.GetFileName(f) != "LOCK") File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }

    private static async Task<List<string>> Scan(IStateStore s)
    {
        var rows = new List<string>();
        await foreach (var (k, v) in s.ScanCommittedAsync("t")) rows.Add($"{k}={Value.ToLong(v)}");
        return rows;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_store_reopened_from_a_crash_image_discards_the_uncommitted_batch_and_commits_on_from_the_last_commit(bool readFirst)
    {
        string dir = Directory.CreateTempSubdirectory("leasehold-rocks-crash-").FullName;
        string image = dir + "-img";
        try
        {
            var a = RocksDbStateStore.Open(dir);
            await a.LoadAsync([new(K, Value.FromLong(0)), new(J, Value.FromLong(100))]);
            await a.WriteVersionsAsync(1, [new(K, Value.FromLong(1))]);
            await a.WriteLogAsync([], 1, 1, 0);
            await a.WriteVersionsAsync(2, [new(K, Value.FromLong(2)), new(J, Value.FromLong(102))]);
            await a.WriteLogAsync([new(3, new byte[] { 3 })], 2, 2, 0);
            await a.WriteVersionsAsync(3, [new(K, Value.FromLong(3))]); // uncommitted at the crash
            CopyDir(dir, image);
            await a.DisposeAsync();

            var b = RocksDbStateStore.Open(image);
            Assert.Equal(2, await b.LastCommittedAsync());
            if (readFirst) { Assert.Equal(2, Value.ToLong(await b.ReadCommittedAsync(K))); Assert.Equal(102, Value.ToLong(await b.ReadCommittedAsync(J))); }
            Assert.Equal(1, await b.DiscardUncommittedAsync());
            Assert.Equal(2, Value.ToLong(await b.ReadCommittedAsync(K)));
            await b.WriteVersionsAsync(3, [new(K, Value.FromLong(33))]);
            await b.WriteLogAsync([], 3, 3, 0);
            Assert.Equal(33, Value.ToLong(await b.ReadCommittedAsync(K)));
            await b.WriteVersionsAsync(4, [new(K, Value.FromLong(44)), new(J, null)]);
            await b.WriteLogAsync([], 4, 4, 0);
            await b.WriteVersionsAsync(5, [new(J, Value.FromLong(5))]);
            await b.WriteLogAsync([], 5, 5, 0);
            Assert.Equal(44, Value.ToLong(await b.ReadCommittedAsync(K)));
            Assert.Equal(5, Value.ToLong(await b.ReadCommittedAsync(J)));
            Assert.Equal(["j=5", "k=44"], await Scan(b));
            await b.DisposeAsync();
            var c = RocksDbStateStore.Open(image);
            Assert.Equal(44, Value.ToLong(await c.ReadCommittedAsync(K)));
            Assert.Equal(["j=5", "k=44"], await Scan(c));
            Assert.Empty(await c.ReadBatchInputsAsync(0).ToListAsync());
            await c.DisposeAsync();
        }
        finally
        {
            Directory.Delete(dir, true);
            if (Directory.Exists(image)) Directory.Delete(image, true);
        }
    }
}
