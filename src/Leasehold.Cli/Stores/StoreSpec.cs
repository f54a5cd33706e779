using Leasehold.Runtime.Storage;
using Leasehold.Storage.Postgres;
using Leasehold.Storage.Redis;
using Leasehold.Storage.RocksDb;

namespace Leasehold.Cli.Stores;

/// <summary>
/// A `--store` value: <c>memory</c>, <c>rocksdb[:PATH]</c>, <c>postgres:CONNECTION-STRING</c> or
/// <c>redis:HOST:PORT[,HOST:PORT…]</c>. Parsed before anything runs, so a typo is a usage error.
/// </summary>
internal sealed record StoreSpec(string Engine, string? Target)
{
    public override string ToString() => Target is null ? Engine : $"{Engine}:{Target}";

    /// <summary>A postgres spec whose connection string names its schema (Search Path).</summary>
    public bool NamesSchema => Engine == "postgres" && Target is not null && PostgresSearchPath(Target) is not null;

    /// <summary>A `--store` value fit for messages and the JSON: a connection string's password is not repeated.</summary>
    public static string Redact(string text) =>
        System.Text.RegularExpressions.Regex.Replace(text, @"(?i)(password|pwd)\s*=\s*[^;]*", "$1=***");

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
            "postgres" when string.IsNullOrWhiteSpace(target) => (null, "--store postgres: needs a connection string, e.g. postgres:Host=127.0.0.1;Port=5432;Username=u;Password=p;Database=d"),
            "postgres" => (new StoreSpec("postgres", target), null),
            "redis" when string.IsNullOrWhiteSpace(target) => (null, "--store redis: needs the cluster's endpoints, e.g. redis:127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103"),
            "redis" => (new StoreSpec("redis", target), null),
            _ => (null, $"--store '{text}': the engine must be memory, rocksdb[:PATH], postgres:CONNECTION-STRING or redis:HOST:PORT[,HOST:PORT…]"),
        };
    }

    private static string? PostgresSearchPath(string connectionString)
    {
        try
        {
            return new Npgsql.NpgsqlConnectionStringBuilder(connectionString).SearchPath;
        }
        catch (ArgumentException e)
        {
            throw new StoreUnavailableException($"postgres: not a valid connection string: {e.Message}", e);
        }
    }

    /// <summary>
    /// Splits a comma list of stores. A Redis spec holds commas itself (its hosts), so a comma separates
    /// two stores only where an engine name follows it.
    /// </summary>
    public static List<string> SplitList(string text) =>
        [.. System.Text.RegularExpressions.Regex.Split(text, @",(?=(?:memory|rocksdb|postgres|redis)(?::|,|$))")];

    /// <summary>Opens the engine. A bench without a path gets a fresh temporary RocksDB directory, removed afterwards.</summary>
    /// <param name="sharedNamespace">the schema (postgres) or keyspace (redis) another process of the cluster opened, to join
    /// it rather than make a temporary one; the process that made it removes it.</param>
    public async Task<OpenedStore> OpenAsync(string purpose, string? sharedNamespace = null)
    {
        await Task.CompletedTask;
        switch (Engine)
        {
            case "memory":
                return new OpenedStore(new MemoryStateStore(), null);
            case "rocksdb":
                string path = Target ?? Path.Combine(Path.GetTempPath(), $"leasehold-{purpose}-{Environment.ProcessId}-{Environment.TickCount64}");
                return new OpenedStore(RocksDbStateStore.Open(path), Target is null ? path : null);
            case "postgres":
                // The schema is the connection string's Search Path; without one a run gets a temporary schema.
                string? named = PostgresSearchPath(Target!) ?? sharedNamespace;
                string schema = named ?? $"leasehold_{purpose}_{Environment.ProcessId}";
                var pg = await PostgresStateStore.OpenAsync(Target!, schema);
                return new OpenedStore(pg, null, named is null ? () => pg.DropAsync() : null) { Namespace = schema };
            case "redis":
                // A run gets a keyspace of its own on the cluster, removed afterwards.
                string keyspace = sharedNamespace ?? $"leasehold-{purpose}-{Environment.ProcessId}-{Environment.TickCount64}";
                var redis = await RedisStateStore.OpenAsync(Target!, keyspace);
                if (redis.DurabilityWarning is { } warning) Console.Error.WriteLine($"leasehold: warning: {warning}");
                return new OpenedStore(redis, null, sharedNamespace is null ? () => redis.DropAsync() : null) { Namespace = keyspace };
            default:
                throw new StoreUnavailableException($"unknown store engine '{Engine}'");
        }
    }
}

/// <summary>An open store, and the temporary directory or schema to remove when it closes (if it made one).</summary>
internal sealed class OpenedStore(IStateStore store, string? temporaryDirectory, Func<Task>? dropTemporary = null) : IAsyncDisposable
{
    public IStateStore Store => store;
    /// <summary>The schema (postgres) or keyspace (redis) opened, for the other processes of a cluster to join; null for embedded engines.</summary>
    public string? Namespace { get; init; }

    public async ValueTask DisposeAsync()
    {
        // Never throws for the drop: an exception here would replace the one that ended the run, which says why.
        if (dropTemporary is not null)
        {
            try { await dropTemporary(); }
            catch (Exception e) { Console.Error.WriteLine($"leasehold: could not remove the temporary schema or keyspace: {e.Message}"); }
        }
        await store.DisposeAsync();
        if (temporaryDirectory is not null && Directory.Exists(temporaryDirectory)) Directory.Delete(temporaryDirectory, recursive: true);
    }
}

/// <summary>The store of a multi-process cluster: every process opens the same one, so only a server engine will do.</summary>
internal static class SharedStore
{
    public static StoreSpec Parse(string text)
    {
        var (spec, problem) = StoreSpec.Parse(text);
        if (spec is null) throw new Processes.UsageException(problem!);
        if (Problem(spec) is { } notShared) throw new Processes.UsageException(notShared);
        return spec;
    }

    /// <summary>Why <paramref name="spec"/> cannot be a multi-process cluster's store, or null.</summary>
    public static string? Problem(StoreSpec spec) => spec.Engine switch
    {
        "memory" => "--store memory: a multi-process cluster needs a shared store (postgres:… or redis:…); the memory store lives in one process",
        "rocksdb" => "--store rocksdb: a multi-process cluster needs a shared store (postgres:… or redis:…); embedded RocksDB has one owner process",
        _ => null,
    };
}
