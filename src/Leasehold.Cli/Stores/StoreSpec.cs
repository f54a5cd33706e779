using Leasehold.Runtime.Storage;
using Leasehold.Storage.RocksDb;

namespace Leasehold.Cli.Stores;

/// <summary>
/// A `--store` value: <c>memory</c>, <c>rocksdb[:PATH]</c>, <c>postgres:CONNECTION-STRING</c> or
/// <c>redis:HOST:PORT[,HOST:PORT…]</c>. Parsed before anything runs, so a typo is a usage error.
/// </summary>
internal sealed record StoreSpec(string Engine, string? Target)
{
    public override string ToString() => Target is null ? Engine : $"{Engine}:{Target}";

    /// <summary>The parsed value, or a one-line reason it is not one.</summary>
    public static (StoreSpec? Spec, string? Problem) Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return (null, "--store needs a value: memory, rocksdb[:PATH], postgres:CONNECTION-STRING or redis:HOST:PORT[,…]");
        int colon = text.IndexOf(':');
        string engine = colon < 0 ? text : text[..colon];
        string? target = colon < 0 ? null : text[(colon + 1)..];
        return engine switch
        {
            "memory" when target is null => (new StoreSpec("memory", null), null),
            "memory" => (null, $"--store memory takes no argument, not '{target}'"),
            "rocksdb" when target is "" => (null, "--store rocksdb: needs a path after the colon (or none at all for a fresh temporary directory)"),
            "rocksdb" => (new StoreSpec("rocksdb", target), null),
            _ => (null, $"--store '{text}': the engine must be memory or rocksdb[:PATH]"),
        };
    }

    /// <summary>
    /// Splits a comma list of stores. A Redis spec holds commas itself (its hosts), so a comma separates
    /// two stores only where an engine name follows it.
    /// </summary>
    public static List<string> SplitList(string text) =>
        [.. System.Text.RegularExpressions.Regex.Split(text, @",(?=(?:memory|rocksdb|postgres|redis)(?::|,|$))")];

    /// <summary>Opens the engine. A bench without a path gets a fresh temporary RocksDB directory, removed afterwards.</summary>
    public async Task<OpenedStore> OpenAsync(string purpose)
    {
        await Task.CompletedTask;
        switch (Engine)
        {
            case "memory":
                return new OpenedStore(new MemoryStateStore(), null);
            case "rocksdb":
                string path = Target ?? Path.Combine(Path.GetTempPath(), $"leasehold-{purpose}-{Environment.ProcessId}-{Environment.TickCount64}");
                return new OpenedStore(RocksDbStateStore.Open(path), Target is null ? path : null);
            default:
                throw new StoreUnavailableException($"unknown store engine '{Engine}'");
        }
    }
}

/// <summary>An open store, and the temporary directory to remove when it closes (if it made one).</summary>
internal sealed class OpenedStore(IStateStore store, string? temporaryDirectory) : IAsyncDisposable
{
    public IStateStore Store => store;

    public async ValueTask DisposeAsync()
    {
        await store.DisposeAsync();
        if (temporaryDirectory is not null && Directory.Exists(temporaryDirectory)) Directory.Delete(temporaryDirectory, recursive: true);
    }
}
