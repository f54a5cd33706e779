using Leasehold.Runtime.Serializable.Worker;
using MemoryPack;

namespace Leasehold.Runtime.Transport.Wire;

// The serializer copies an unmanaged field's memory as it is, so a forged byte could make a bool that is
// neither true nor false, an enum value nobody defined, or a DateTimeOffset whose internal fields no
// constructor would accept. The fields of those types carry one of these attributes instead: a defined
// encoding, checked on the way in.

/// <summary>A bool is exactly 0 or 1 on the wire.</summary>
internal static class StrictBool
{
    public static void Write<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, bool value)
        where TBufferWriter : System.Buffers.IBufferWriter<byte> => writer.WriteUnmanaged(value ? (byte)1 : (byte)0);

    public static bool Read(ref MemoryPackReader reader, string field) => reader.ReadUnmanaged<byte>() switch
    {
        0 => false,
        1 => true,
        _ => throw new WireRefusedException(WireRefusal.FieldOutOfBounds(field)),
    };
}

internal sealed class StrictBoolFormatter : MemoryPackFormatter<bool>
{
    public static readonly StrictBoolFormatter Instance = new();
    public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref bool value) => StrictBool.Write(ref writer, value);
    public override void Deserialize(ref MemoryPackReader reader, scoped ref bool value) => value = StrictBool.Read(ref reader, "bool");
}

internal sealed class WireBoolAttribute : MemoryPackCustomFormatterAttribute<StrictBoolFormatter, bool>
{
    public override StrictBoolFormatter GetFormatter() => StrictBoolFormatter.Instance;
}

/// <summary>A point in time as its clock ticks (i64) and UTC offset in minutes (i16), each range-checked.</summary>
internal sealed class WireTimeFormatter : MemoryPackFormatter<DateTimeOffset>
{
    public static readonly WireTimeFormatter Instance = new();
    private const short MaxOffsetMinutes = 14 * 60;

    public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref DateTimeOffset value) =>
        writer.WriteUnmanaged(value.Ticks, (short)value.TotalOffsetMinutes);

    public override void Deserialize(ref MemoryPackReader reader, scoped ref DateTimeOffset value)
    {
        reader.ReadUnmanaged(out long ticks, out short offsetMinutes);
        long utcTicks = ticks - offsetMinutes * TimeSpan.TicksPerMinute;
        if (offsetMinutes is < -MaxOffsetMinutes or > MaxOffsetMinutes
            || ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks
            || utcTicks < DateTime.MinValue.Ticks || utcTicks > DateTime.MaxValue.Ticks)
            throw new WireRefusedException(WireRefusal.FieldOutOfBounds("DateTimeOffset"));
        value = new DateTimeOffset(ticks, TimeSpan.FromMinutes(offsetMinutes));
    }
}

internal sealed class WireTimeAttribute : MemoryPackCustomFormatterAttribute<WireTimeFormatter, DateTimeOffset>
{
    public override WireTimeFormatter GetFormatter() => WireTimeFormatter.Instance;
}

/// <summary>A workflow's status as one byte, refused beyond the last defined status.</summary>
internal sealed class WorkflowStatusFormatter : MemoryPackFormatter<WorkflowStatus>
{
    public static readonly WorkflowStatusFormatter Instance = new();

    public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref WorkflowStatus value) =>
        writer.WriteUnmanaged((byte)value);

    public override void Deserialize(ref MemoryPackReader reader, scoped ref WorkflowStatus value)
    {
        byte status = reader.ReadUnmanaged<byte>();
        if (status > (byte)WorkflowStatus.Unknown) throw new WireRefusedException(WireRefusal.FieldOutOfBounds("WorkflowStatus"));
        value = (WorkflowStatus)status;
    }
}

internal sealed class WireStatusAttribute : MemoryPackCustomFormatterAttribute<WorkflowStatusFormatter, WorkflowStatus>
{
    public override WorkflowStatusFormatter GetFormatter() => WorkflowStatusFormatter.Instance;
}

/// <summary>A release notice's three flags as the low bits of one byte; any other bit set is refused.</summary>
internal sealed class ReleaseNoticeFormatter : MemoryPackFormatter<ReleaseNotice>
{
    public static readonly ReleaseNoticeFormatter Instance = new();
    private const byte Written = 1, Tentative = 2, Aborted = 4;

    public override void Serialize<TBufferWriter>(ref MemoryPackWriter<TBufferWriter> writer, scoped ref ReleaseNotice value) =>
        writer.WriteUnmanaged((byte)((value.Written ? Written : 0) | (value.Tentative ? Tentative : 0) | (value.Aborted ? Aborted : 0)));

    public override void Deserialize(ref MemoryPackReader reader, scoped ref ReleaseNotice value)
    {
        byte flags = reader.ReadUnmanaged<byte>();
        if ((flags & ~(Written | Tentative | Aborted)) != 0) throw new WireRefusedException(WireRefusal.FieldOutOfBounds("ReleaseNotice"));
        value = new ReleaseNotice((flags & Written) != 0, (flags & Tentative) != 0, (flags & Aborted) != 0);
    }
}

internal sealed class WireReleaseNoticeAttribute : MemoryPackCustomFormatterAttribute<ReleaseNoticeFormatter, ReleaseNotice>
{
    public override ReleaseNoticeFormatter GetFormatter() => ReleaseNoticeFormatter.Instance;
}
