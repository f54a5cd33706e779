namespace Leasehold.Storage.RocksDb;

/// <summary>
/// Points where a test runs code inside the store, to force an interleaving deterministically instead of
/// hoping a thread race produces it. Null (and free) outside tests.
/// </summary>
public sealed partial class RocksDbStateStore
{
    /// <summary>Runs just before each synced write, holding only the durable-write gate.</summary>
    internal Action? BeforeSyncedWrite { get; set; }

    /// <summary>Runs in a point read after it looked up the key's newest committed batch and before it reads that version.</summary>
    internal Action<StateKey>? BetweenLookupAndGet { get; set; }
}
