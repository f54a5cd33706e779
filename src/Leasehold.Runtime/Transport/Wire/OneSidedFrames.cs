using Leasehold.Runtime.Transport.Regions;
using MemoryPack;

namespace Leasehold.Runtime.Transport.Wire;

// One-sided operations and their completions as the wire carries them. They are messages so that they share
// the message table, the one decoding point and its refusals, and the round-trip and fuzz tests. The frame
// header's sender and incarnation stay unstamped (zero): a one-sided operation has no sender the target
// checks; the region key's incarnation is its fence, as an rkey is in RDMA.

/// <summary>Read the flag and the value of <c>Slot</c> in the region <c>Key</c>.</summary>
[MemoryPackable]
internal sealed partial record ReadRequest(RegionKey Key, int Slot) : Message;

/// <summary>Write <c>Value</c>, then <c>Flag</c>, into one slot, in one operation.</summary>
[MemoryPackable]
internal sealed partial record WriteValueThenFlagRequest(RegionKey Key, int Slot, byte[]? Value, int Flag) : Message;

/// <summary>Write <c>Value</c> into one slot and leave its flag.</summary>
[MemoryPackable]
internal sealed partial record WriteValueRequest(RegionKey Key, int Slot, byte[]? Value) : Message;

[MemoryPackable]
internal sealed partial record WriteFlagRequest(RegionKey Key, int Slot, int Flag) : Message;

[MemoryPackable]
internal sealed partial record CompareAndSwapFlagRequest(RegionKey Key, int Slot, int Expected, int Desired) : Message;

/// <summary>Add <c>Delta</c> to the slot's sequence.</summary>
[MemoryPackable]
internal sealed partial record FetchAndAddRequest(RegionKey Key, int Slot, ulong Delta) : Message;

/// <summary>A read's result: the flag and the value (null and empty differ).</summary>
[MemoryPackable]
internal sealed partial record SnapshotCompletion(int Flag, byte[]? Value) : Message;

/// <summary>Whether a compare-and-swap swapped.</summary>
[MemoryPackable]
internal sealed partial record SwappedCompletion([property: WireBool] bool Swapped) : Message;

/// <summary>The sequence a fetch-and-add found before adding.</summary>
[MemoryPackable]
internal sealed partial record FetchedCompletion(ulong Before) : Message;

/// <summary>A write landed.</summary>
[MemoryPackable]
internal sealed partial record AckCompletion : Message;
