namespace Leasehold.Runtime.Storage;

/// <summary>
/// A store that counts its durable (synced) writes, so a bench can report syncs per committed transaction
/// without referencing the engine's assembly. Optional: engines whose syncs happen in a server do not count them.
/// </summary>
public interface ISyncCounter
{
    /// <summary>Writes made durable before they returned (each one fsync or fdatasync of the log), since the store opened.</summary>
    long SyncedWrites { get; }
}
