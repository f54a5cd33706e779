namespace Leasehold.Runtime.Serializable.Driver;

/// <summary>
/// What a failed incarnation hands over: why it stopped, the batch whose commit record was being
/// written (it may have committed), the requests of batches whose input may be in the batch log
/// (re-executed from the log, or answered if their batch turns out committed), and requests that never
/// reached the log (admitted again). Fenced: another owner claimed the store, so this node must stop.
/// </summary>
internal sealed record Interruption(string Reason, long? CommitInDoubt, IReadOnlyList<Request> MaybeLogged, IReadOnlyList<Request> NotLogged, long NextTs, long LastCommitted, bool Fenced = false);

/// <summary>Where a new driver starts counting: its first batch id and timestamp, the batch committed last, and the epoch it fences its writes with.</summary>
internal readonly record struct DriverStart(long NextBatch, long NextTs, long LastCommitted, long Epoch, BatchClock.Reservation Time);
