using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Transport.Wire;
using MemoryPack;

namespace Leasehold.Tests.Transport;

/// <summary>
/// Every serializing transport builds the serializer's formatters on one thread before its readers and senders start
/// (<see cref="WireCodec.Prepare"/>): a process whose first decode of a type raced its first construction of that type
/// could see no formatter and lose a link's reader to a NullReferenceException (seen under load in worker processes).
/// </summary>
public class WireCodecPrepareTests
{
    [Fact]
    public void Every_message_kind_and_every_record_a_message_carries_has_its_formatter_built()
    {
        var prepared = WireCodec.Prepare();

        Assert.All(MessageKinds.All, kind => Assert.Contains(kind.Type, prepared));
        // Records carried inside messages race the same way when first built and first read on two threads.
        Assert.Contains(typeof(PlannedWorkflow), prepared);
        Assert.Contains(typeof(WorkflowOutcome), prepared);
        Assert.All(prepared, type => Assert.True(
            (bool)typeof(MemoryPackFormatterProvider).GetMethod(nameof(MemoryPackFormatterProvider.IsRegistered))!.MakeGenericMethod(type).Invoke(null, null)!,
            $"{type.Name} has no formatter"));
    }

    [Fact]
    public void Preparing_twice_builds_nothing_again()
    {
        Assert.Same(WireCodec.Prepare(), WireCodec.Prepare());
    }
}
