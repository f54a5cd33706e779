using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Transport.Wire;
using static Leasehold.Tests.Transport.WireCodecRoundTripTests;

namespace Leasehold.Tests.Transport;

/// <summary>A one-sided frame outside its bounds is refused naming the field: a negative slot, a value over the limit, a forged bool.</summary>
public class OneSidedFrameRefusalTests
{
    private static readonly RegionKey Key = new(2, 3);

    public static TheoryData<string, Message> NegativeSlots => new()
    {
        { "ReadRequest.Slot", new ReadRequest(Key, -1) },
        { "WriteValueThenFlagRequest.Slot", new WriteValueThenFlagRequest(Key, -1, [1], 2) },
        { "WriteValueRequest.Slot", new WriteValueRequest(Key, int.MinValue, null) },
        { "WriteFlagRequest.Slot", new WriteFlagRequest(Key, -1, 2) },
        { "CompareAndSwapFlagRequest.Slot", new CompareAndSwapFlagRequest(Key, -1, 2, 3) },
        { "FetchAndAddRequest.Slot", new FetchAndAddRequest(Key, -1, 1) },
    };

    [Theory]
    [MemberData(nameof(NegativeSlots))]
    public void A_negative_slot_is_refused_naming_the_field(string field, Message frame)
    {
        Assert.False(WireCodec.TryDecode(Frame(frame), WireLimits.Default, out _, out var refusal));
        Assert.Equal(WireRefusal.FieldOutOfBounds(field), refusal);
    }

    public static TheoryData<string, Message> NineByteValues => new()
    {
        { "WriteValueThenFlagRequest.Value", new WriteValueThenFlagRequest(Key, 0, new byte[9], 2) },
        { "WriteValueRequest.Value", new WriteValueRequest(Key, 0, new byte[9]) },
        { "SnapshotCompletion.Value", new SnapshotCompletion(1, new byte[9]) },
    };

    [Theory]
    [MemberData(nameof(NineByteValues))]
    public void A_value_over_the_limit_is_refused_naming_the_field_and_one_at_the_limit_decodes(string field, Message frame)
    {
        var limits = WireLimits.Default with { MaxValueBytes = 8 };
        Assert.False(WireCodec.TryDecode(Frame(frame), limits, out _, out var refusal));
        Assert.Equal(WireRefusal.FieldOutOfBounds(field), refusal);
        Assert.True(WireCodec.TryDecode(Frame(frame), limits with { MaxValueBytes = 9 }, out _, out refusal), refusal.ToString());
    }

    [Fact]
    public void A_swapped_flag_that_is_neither_true_nor_false_is_refused()
    {
        var frame = Frame(new SwappedCompletion(true));
        Assert.Equal(1, frame[^1]);
        frame[^1] = 2;
        Assert.False(WireCodec.TryDecode(frame, WireLimits.Default, out _, out var refusal));
        Assert.Equal(WireRefusalKind.FieldOutOfBounds, refusal.Kind);
    }

    [Fact]
    public void An_acknowledgement_with_a_body_is_malformed()
    {
        var frame = Frame(new AckCompletion());
        Assert.True(WireCodec.TryDecode(frame, WireLimits.Default, out var decoded, out _));
        Assert.IsType<AckCompletion>(decoded);
        var longer = new byte[frame.Length + 1];
        frame.CopyTo(longer, 0);
        longer[4]++; // the header's body length, so only the body is wrong
        Assert.False(WireCodec.TryDecode(longer, WireLimits.Default, out _, out var refusal));
        Assert.Equal(WireRefusalKind.Malformed, refusal.Kind);
    }
}
