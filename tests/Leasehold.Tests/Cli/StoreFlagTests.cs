using Leasehold.Tests.Support;

namespace Leasehold.Tests.Cli;

/// <summary>`--store` bad input: a clear error naming the cause, exit 2, and nothing existing damaged.</summary>
public sealed class StoreFlagTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("leasehold-store-flag-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<CliProcess.Outcome> Bench(string store) =>
        await CliProcess.RunAsync("bench", "--store", store, "--keys", "100", "--clients", "4", "--duration", "0.5", "--warmup", "0", "--quiet");

    private static void AssertUsageError(CliProcess.Outcome run, string named)
    {
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Stdout}{run.Stderr}");
        Assert.Contains(named, run.Stderr);
        Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task A_directory_of_other_files_is_refused_and_left_as_it_was()
    {
        string foreign = Path.Combine(_dir, "foreign");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(Path.Combine(foreign, "notes.txt"), "mine");
        AssertUsageError(await Bench($"rocksdb:{foreign}"), "holds no RocksDB database");
        Assert.Equal(["notes.txt"], Directory.GetFiles(foreign).Select(Path.GetFileName));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(foreign, "notes.txt")));
    }

    [Fact]
    public async Task A_corrupted_store_is_named_corrupted_and_a_used_one_is_refused_without_change()
    {
        string used = Path.Combine(_dir, "used");
        var first = await Bench($"rocksdb:{used}");
        Assert.True(first.ExitCode == 0, first.Stderr);
        var (committed, rows) = await Committed(used);
        Assert.True(committed > 0);
        AssertUsageError(await Bench($"rocksdb:{used}"), "already holds committed batches");
        Assert.Equal((committed, rows), await Committed(used)); // refused before anything was written
        File.WriteAllText(Path.Combine(used, "CURRENT"), "garbage\n");
        AssertUsageError(await Bench($"rocksdb:{used}"), "corrupted");
    }

    private static async Task<(long Last, int Rows)> Committed(string path)
    {
        await using var store = Leasehold.Storage.RocksDb.RocksDbStateStore.Open(path);
        int rows = 0;
        await foreach (var _ in store.ScanCommittedAsync("accounts")) rows++;
        return (await store.LastCommittedAsync(), rows);
    }

    [Fact]
    public async Task A_file_where_a_directory_belongs_is_refused()
    {
        string file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        AssertUsageError(await Bench($"rocksdb:{file}"), "is a file");
        Assert.Equal("x", File.ReadAllText(file));
    }

    [Theory]
    [InlineData("postgres:Bogus Key=1", "not a valid connection string")]
    [InlineData("postgres:Host=127.0.0.1;Port=1;Username=u;Password=secret-pw;Database=d;Timeout=2", "cannot use 127.0.0.1:1/d")]
    [InlineData("postgres:", "needs a connection string")]
    [InlineData("rocksdb:", "needs a path")]
    [InlineData("redis:127.0.0.1:1", "127.0.0.1:1")]
    [InlineData("redis:", "needs the cluster")]
    [InlineData("cassandra:x", "the engine must be")]
    public async Task A_bad_store_spec_or_an_unreachable_server_is_a_usage_error_naming_it(string store, string named)
    {
        var run = await Bench(store);
        AssertUsageError(run, named);
        Assert.DoesNotContain("secret-pw", run.Stderr); // a password is never repeated in a message
    }
}
