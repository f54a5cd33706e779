using Leasehold.Runtime.Storage;
using Leasehold.Storage.RocksDb;

namespace Leasehold.Tests.Storage.Conformance;

public sealed class RocksDbStoreConformanceTests : StoreConformanceTests
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"leasehold-rocks-{Environment.ProcessId}-{Guid.NewGuid():N}");

    protected override bool Durable => true;

    protected override bool WritesTheLogAtomically => true;

    protected override Task<IStateStore> OpenAsync(bool fresh)
    {
        if (fresh && Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
        return Task.FromResult<IStateStore>(RocksDbStateStore.Open(_dir));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
