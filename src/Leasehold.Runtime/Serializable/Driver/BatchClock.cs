using System.Buffers.Binary;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Storage;

namespace Leasehold.Runtime.Serializable.Driver;

/// <summary>
/// The time a batch gives its workflows (<c>ctx.BatchTime</c>), never going back — not across batches, and
/// not across a restart on a host whose clock is behind. The driver may only hand out times up to a bound
/// it has made durable first (a record in the store, extended ahead of need); a restart starts at the last
/// such bound. So the times of every batch any earlier life committed are at or below where this one starts.
/// While an extension is in flight (it begins half a reservation ahead), time waits at the bound rather
/// than pass it.
/// </summary>
internal sealed class BatchClock(IScheduler scheduler, Generation generation, IStateStore store, Mailbox mailbox, BatchClock.Reservation start)
{
    /// <summary>How far ahead each extension reserves.</summary>
    public static readonly TimeSpan Ahead = TimeSpan.FromSeconds(2);

    public const string RecordName = "leasehold.batch-time";

    /// <summary>
    /// What a start begins from: every earlier life's times are at or below <paramref name="Floor"/>, and this one
    /// may hand out times up to <paramref name="Until"/>, already durable (<paramref name="Record"/>: its bytes as stored).
    /// </summary>
    public readonly record struct Reservation(DateTimeOffset Floor, DateTimeOffset Until, byte[]? Record);

    private Reservation _reserved = start;
    private DateTimeOffset _last = start.Floor;
    private bool _extending;
    private DateTimeOffset _recorded = start.Record is { } r ? Decode(r) : start.Until;

    /// <summary>The time for a batch closing now, on the driver's mailbox.</summary>
    public DateTimeOffset Next()
    {
        var now = scheduler.Time.GetUtcNow();
        var time = now > _last ? now : _last;
        if (time > _reserved.Until) time = _reserved.Until;
        _last = time;
        if (!_extending && _reserved.Until - now < Ahead / 2) Extend(now + Ahead);
        return time;
    }

    private void Extend(DateTimeOffset until)
    {
        _extending = true;
        // The record only ever grows (every writer writes at least what it replaces), so whatever it holds is a
        // bound every later start begins at or above.
        if (until < _recorded) until = _recorded;
        var record = Encode(until);
        var expected = _reserved.Record;
        generation.Call(() => store.CompareAndSetAsync(RecordName, expected, record), mailbox, set =>
        {
            if (!set) { Resync(); return; }
            _extending = false;
            _reserved = _reserved with { Until = until, Record = record };
            _recorded = until;
        }, _ => Resync()); // the reply may be lost after the store applied it: the record may now be ours, or not
    }

    /// <summary>
    /// After a refused or failed extension: the record is not what this clock expected (its own write applied
    /// but unanswered, or another owner's), so it reads it back and extends from it. Without this every later
    /// extension would be refused, and time would wait at the bound forever.
    /// </summary>
    private void Resync()
    {
        generation.Call(() => store.ReadRecordAsync(RecordName), mailbox, bytes =>
        {
            _extending = false;
            if (bytes is null) return;
            DateTimeOffset stored;
            try { stored = Decode(bytes); }
            catch (RecoveryException) { return; }
            _recorded = stored;
            _reserved = _reserved with { Until = stored > _reserved.Until ? stored : _reserved.Until, Record = bytes };
        }, _ => _extending = false);
    }

    /// <summary>
    /// On a start or a rollback, before the first batch: reads the bound every earlier life kept to and makes a
    /// new one durable above it, so the first batches need not wait for an extension.
    /// </summary>
    public static async Task<Reservation> ReserveAsync(IStateStore store, DateTimeOffset now, CancellationToken cancellation)
    {
        for (int attempt = 0; ; attempt++)
        {
            var record = await store.ReadRecordAsync(RecordName, cancellation).ConfigureAwait(false);
            var floor = record is null ? DateTimeOffset.MinValue : Decode(record);
            var until = (now > floor ? now : floor) + Ahead;
            var bytes = Encode(until);
            if (await store.CompareAndSetAsync(RecordName, record, bytes, cancellation).ConfigureAwait(false)) return new Reservation(floor, until, bytes);
            if (attempt == 3) throw new StoreConflictException($"the store's {RecordName} record kept changing while this start reserved batch times: another node is writing it");
        }
    }

    private static DateTimeOffset Decode(byte[] record)
    {
        if (record.Length != 8)
            throw new RecoveryException($"the store's {RecordName} record is {record.Length} bytes, not the 8 of a time: it was not written by Leasehold");
        long ticks = BinaryPrimitives.ReadInt64LittleEndian(record);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks - Ahead.Ticks)
            throw new RecoveryException($"the store's {RecordName} record holds {ticks} ticks, which is no time");
        return new DateTimeOffset(ticks, TimeSpan.Zero);
    }

    private static byte[] Encode(DateTimeOffset time)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, time.UtcTicks);
        return bytes;
    }
}
