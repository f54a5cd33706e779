using System.Buffers.Binary;
using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Wire;
using static Leasehold.Tests.Transport.WireCodecRoundTripTests;

namespace Leasehold.Tests.Transport;

/// <summary>Each way a frame can be wrong is refused with its own reason, and the reason names the cause.</summary>
public class WireRefusalTests
{
    private static byte[] Grant(int position = 2)
    {
        var grant = new GrantMsg(KeyId: 7, Ts: 100, Position: position, AccessIndex: 1);
        grant.Stamp(NodeId.Worker(3), new Incarnation(2));
        return Frame(grant);
    }

    private static WireRefusal Refused(byte[] frame, WireLimits? limits = null)
    {
        bool decoded = WireCodec.TryDecode(frame, limits ?? WireLimits.Default, out var message, out var refusal);
        Assert.False(decoded, $"decoded as {message}");
        Assert.Null(message);
        return refusal;
    }

    [Fact]
    public void The_valid_frame_these_tests_damage_decodes()
    {
        Assert.True(WireCodec.TryDecode(Grant(), WireLimits.Default, out var message, out _));
        var grant = Assert.IsType<GrantMsg>(message);
        Assert.Equal((7, 100L, 2, 1), (grant.KeyId, grant.Ts, grant.Position, grant.AccessIndex));
        Assert.Equal((NodeId.Worker(3), new Incarnation(2)), (grant.From, grant.Incarnation));
    }

    [Fact]
    public void Fewer_bytes_than_a_header_are_refused_as_too_short()
    {
        var refusal = Refused(Grant()[..(WireHeader.Size - 1)]);
        Assert.Equal(WireRefusalKind.TooShort, refusal.Kind);
        Assert.Equal(WireRefusalKind.TooShort, Refused([]).Kind);
    }

    [Fact]
    public void A_frame_without_the_magic_is_refused()
    {
        var frame = Grant();
        frame[0] ^= 1;
        Assert.Equal(WireRefusalKind.BadMagic, Refused(frame).Kind);
    }

    [Fact]
    public void A_frame_of_another_protocol_version_is_refused_naming_both_versions()
    {
        var frame = Grant();
        frame[2] = WireHeader.ProtocolVersion + 1;
        var refusal = Refused(frame);
        Assert.Equal(WireRefusalKind.UnknownVersion, refusal.Kind);
        Assert.Contains($"version {WireHeader.ProtocolVersion + 1}", refusal.Detail);
    }

    [Fact]
    public void A_kind_missing_from_the_table_is_refused()
    {
        var frame = Grant();
        frame[3] = 255;
        var refusal = Refused(frame);
        Assert.Equal(WireRefusalKind.UnknownKind, refusal.Kind);
        Assert.Contains("255", refusal.Detail);
    }

    [Fact]
    public void A_body_length_that_is_not_the_bytes_that_follow_is_a_length_mismatch()
    {
        Assert.Equal(WireRefusalKind.LengthMismatch, Refused([.. Grant(), 0]).Kind);
        var frame = Grant();
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), (uint)(frame.Length - WireHeader.Size - 1));
        Assert.Equal(WireRefusalKind.LengthMismatch, Refused(frame).Kind);
    }

    [Fact]
    public void A_frame_or_a_declared_body_over_the_frame_limit_is_oversized()
    {
        var plan = WireMessageGenerators.PlanOf(8);
        var small = WireLimits.Default with { MaxFrameBytes = 256 };
        Assert.Equal(WireRefusalKind.Oversized, Refused(Frame(plan), small).Kind);
        // A short frame whose header claims a huge body is refused for the claim, before any length check.
        var frame = Grant();
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), uint.MaxValue);
        Assert.Equal(WireRefusalKind.Oversized, Refused(frame).Kind);
    }

    [Fact]
    public void A_field_outside_its_bounds_is_refused_naming_the_field()
    {
        Assert.Equal(WireRefusal.FieldOutOfBounds("Position"), Refused(Grant(position: -1)));

        var frame = Grant();
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(8), 0x0009_0000); // role 9 does not exist
        Assert.Equal(WireRefusal.FieldOutOfBounds("sender"), Refused(frame));

        var failed = new WorkerFailedMsg(new string('x', 100));
        Assert.Equal(WireRefusal.FieldOutOfBounds("WorkerFailedMsg.Reason"), Refused(Frame(failed), WireLimits.Default with { MaxStringChars = 99 }));

        var executed = new ExecutedMsg(1, [new WorkflowOutcome(5, WorkflowStatus.Committed, null, [new byte[17]])]);
        Assert.Equal(WireRefusal.FieldOutOfBounds("WorkflowOutcome.Outputs[]"), Refused(Frame(executed), WireLimits.Default with { MaxValueBytes = 16 }));

        var status = Frame(new ExecutedMsg(1, [new WorkflowOutcome(5, WorkflowStatus.Committed, null, [])]));
        // Body: ExecutedMsg's member count, Batch, the outcomes' count, then the outcome: member count, Ts, Status.
        status[WireHeader.Size + 1 + 8 + 4 + 1 + 8] = 200;
        Assert.Equal(WireRefusal.FieldOutOfBounds("WorkflowStatus"), Refused(status));
    }

    [Fact]
    public void A_flag_status_or_time_no_sender_could_have_written_is_refused_naming_it()
    {
        // The serializer would copy these as raw memory: a bool of 2, an undefined flag, a time beyond range.
        var released = Frame(new ReleasedMsg(1, 2, 3, new(Written: true, Tentative: false, Aborted: false)));
        released[WireHeader.Size + 1 + 4 + 8 + 4] = 0x08; // after member count, KeyId, Ts, Position
        Assert.Equal(WireRefusal.FieldOutOfBounds("ReleaseNotice"), Refused(released));

        var outcome = Frame(new OutcomeMsg(5, true, [1]));
        outcome[WireHeader.Size + 1 + 8] = 2; // after member count and Ts
        Assert.Equal(WireRefusal.FieldOutOfBounds("bool"), Refused(outcome));

        var plan = Frame(WireMessageGenerators.PlanOf(1));
        BinaryPrimitives.WriteInt16LittleEndian(plan.AsSpan(WireHeader.Size + 1 + 8 + 8 + 8), 15 * 60); // the time's offset: 15 hours
        Assert.Equal(WireRefusal.FieldOutOfBounds("DateTimeOffset"), Refused(plan));
    }

    [Fact]
    public void A_body_that_is_not_its_kinds_layout_is_malformed()
    {
        var truncated = Grant()[..^1];
        BinaryPrimitives.WriteUInt32LittleEndian(truncated.AsSpan(4), (uint)(truncated.Length - WireHeader.Size));
        Assert.Equal(WireRefusalKind.Malformed, Refused(truncated).Kind);

        // A record with fewer members than the layout has would decode with defaults: a truncated record.
        var fewer = Grant();
        fewer[WireHeader.Size] = 3;
        var refusal = Refused(fewer);
        Assert.Equal(WireRefusalKind.Malformed, refusal.Kind);
        Assert.Contains("GrantMsg has 4 members", refusal.Detail);

        var nullReason = Frame(new WorkerFailedMsg(null!));
        Assert.Equal(WireRefusal.Malformed("WorkerFailedMsg.Reason is null"), Refused(nullReason));
    }
}
