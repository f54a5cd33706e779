using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Runtime.Transport.Wire;

/// <summary>
/// The bounds a decoded one-sided frame keeps: a slot is never negative and a value is at most
/// <see cref="WireLimits.MaxValueBytes"/>. Whether the key is registered is the target's check, not the wire's.
/// </summary>
internal static class OneSidedChecks
{
    public static WireRefusal? Read(ReadRequest m, WireLimits l) => Slot(m.Slot, "ReadRequest.Slot");

    public static WireRefusal? WriteValueThenFlag(WriteValueThenFlagRequest m, WireLimits l) =>
        Slot(m.Slot, "WriteValueThenFlagRequest.Slot") ?? Value(m.Value, "WriteValueThenFlagRequest.Value", l);

    public static WireRefusal? WriteValue(WriteValueRequest m, WireLimits l) =>
        Slot(m.Slot, "WriteValueRequest.Slot") ?? Value(m.Value, "WriteValueRequest.Value", l);

    public static WireRefusal? WriteFlag(WriteFlagRequest m, WireLimits l) => Slot(m.Slot, "WriteFlagRequest.Slot");

    public static WireRefusal? CompareAndSwapFlag(CompareAndSwapFlagRequest m, WireLimits l) => Slot(m.Slot, "CompareAndSwapFlagRequest.Slot");

    public static WireRefusal? FetchAndAdd(FetchAndAddRequest m, WireLimits l) => Slot(m.Slot, "FetchAndAddRequest.Slot");

    public static WireRefusal? Snapshot(SnapshotCompletion m, WireLimits l) => Value(m.Value, "SnapshotCompletion.Value", l);

    private static WireRefusal? Slot(int slot, string field) => slot < 0 ? WireRefusal.FieldOutOfBounds(field) : null;

    private static WireRefusal? Value(byte[]? value, string field, WireLimits l) =>
        value is not null && value.Length > l.MaxValueBytes ? WireRefusal.FieldOutOfBounds(field) : null;
}
