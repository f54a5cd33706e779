using Leasehold.Runtime.Storage;
using Leasehold.Storage.Postgres;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Storage.Conformance;

/// <summary>The suite against a real PostgreSQL server; each test gets a schema of its own, dropped afterwards.</summary>
public sealed class PostgresStoreConformanceTests : StoreConformanceTests
{
    private static int _next;
    private readonly string _schema = $"conformance_{Environment.ProcessId}_{Interlocked.Increment(ref _next)}";

    protected override bool Durable => true;

    protected override bool WritesTheLogAtomically => true;

    protected override Task<string?> UnavailableAsync() => ExternalServer.PostgresUnavailableAsync();

    protected override async Task<IStateStore> OpenAsync(bool fresh)
    {
        var store = await PostgresStateStore.OpenAsync(ExternalServer.Postgres, _schema);
        if (!fresh) return store;
        await store.DropAsync();
        await store.DisposeAsync();
        return await PostgresStateStore.OpenAsync(ExternalServer.Postgres, _schema);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        try
        {
            await using var store = await PostgresStateStore.OpenAsync(ExternalServer.Postgres, _schema);
            await store.DropAsync();
        }
        catch (StoreUnavailableException)
        {
            // nothing was created
        }
    }
}
