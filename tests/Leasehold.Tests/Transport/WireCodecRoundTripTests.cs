using System.Buffers;
using CsCheck;
using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Tests.Transport;

/// <summary>Every message the wire carries comes back from its frame equal in content, stamped with its sender and incarnation.</summary>
public class WireCodecRoundTripTests
{
    internal static byte[] Frame(Message message)
    {
        var buffer = new ArrayBufferWriter<byte>();
        WireCodec.Encode(message, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public void Every_kind_in_the_message_table_has_a_generator()
    {
        var missing = MessageKinds.All.Where(k => !WireMessageGenerators.ByType.ContainsKey(k.Type)).Select(k => k.Type.Name).ToList();
        Assert.True(missing.Count == 0, $"no round-trip generator for: {string.Join(", ", missing)} (add one to WireMessageGenerators.ByType)");
        var notInTable = WireMessageGenerators.ByType.Keys.Except(MessageKinds.All.Select(k => k.Type)).Select(t => t.Name).ToList();
        Assert.True(notInTable.Count == 0, $"generated but not in the wire's table: {string.Join(", ", notInTable)}");
    }

    [Fact]
    public void Every_message_decodes_equal_in_content_and_stamped_from_the_header()
    {
        WireMessageGenerators.Stamped.Sample(message =>
        {
            var frame = Frame(message);
            Assert.True(WireCodec.TryDecode(frame, WireLimits.Default, out var decoded, out var refusal), $"{message.GetType().Name} refused: {refusal}");
            Assert.NotSame(message, decoded);
            Assert.Equal(message.From, decoded.From);
            Assert.Equal(message.Incarnation, decoded.Incarnation);
            Assert.Null(StructuralEquality.FirstDifference(message, decoded));
        }, iter: 3000, threads: 1);
    }

    [Fact]
    public void Each_kind_round_trips_on_its_own()
    {
        // The mixed sample above could starve a kind; this gives each row of the table its own run.
        foreach (var kind in MessageKinds.All)
            WireMessageGenerators.ByType[kind.Type].Sample(message =>
            {
                Assert.True(WireCodec.TryDecode(Frame(message), WireLimits.Default, out var decoded, out var refusal), $"{kind} refused: {refusal}");
                Assert.Null(StructuralEquality.FirstDifference(message, decoded));
            }, iter: 200, threads: 1);
    }

    [Fact]
    public void A_string_with_a_lone_surrogate_arrives_unchanged()
    {
        var message = new WorkerFailedMsg("store \ud800 failed");
        Assert.True(WireCodec.TryDecode(Frame(message), WireLimits.Default, out var decoded, out _));
        Assert.Equal(message.Reason, ((WorkerFailedMsg)decoded).Reason);
    }

    [Fact]
    public void The_content_comparer_finds_a_changed_array_element_and_a_changed_parameter()
    {
        var plan = WireMessageGenerators.PlanOf(2);
        var otherLease = plan with { Leases = [.. plan.Leases[..^1], plan.Leases[^1] with { Holder = 3 - plan.Leases[^1].Holder }] };
        Assert.Contains("Leases[3]", StructuralEquality.FirstDifference(plan, otherLease));
        var otherArgs = plan with { Workflows = [plan.Workflows[0], plan.Workflows[1] with { Args = Args.Create().Set("from", 1).Set("to", 2).Set("amount", 11).Build() }] };
        Assert.Contains("Workflows[1].Args.amount", StructuralEquality.FirstDifference(plan, otherArgs));
        Assert.Null(StructuralEquality.FirstDifference(plan, WireMessageGenerators.PlanOf(2)));
    }
}
