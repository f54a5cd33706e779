using Leasehold.Runtime.Serializable.Worker;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Wire;
using MemoryPack;

namespace Leasehold.Runtime.Serializable.Messages;

/// <summary>
/// A worker's virtual vertices for one batch at one leaseholder, sent once per peer per batch (empty
/// too): it is also the end-of-batch marker, after which no record of that batch can arrive from the sender.
/// </summary>
[MemoryPackable]
internal sealed partial record RecordsMsg(long Batch, VirtualVertex[] Vertices) : Message;

/// <summary>Another worker's operation on a key this worker holds: named by (key, ts, position), never by reference.</summary>
internal readonly record struct VirtualVertex(int KeyId, StateKey Key, long Ts, int Position, int AccessIndex);

/// <summary>The leaseholder set the key's flag to the requester: its operation (ts, position) may touch the key.</summary>
[MemoryPackable]
internal sealed partial record GrantMsg(int KeyId, long Ts, int Position, int AccessIndex) : Message;

/// <summary>The requester gave the key back (value and flag landed first): how the holder treats the write.</summary>
[MemoryPackable]
internal sealed partial record ReleasedMsg(int KeyId, long Ts, int Position, [property: WireReleaseNotice] ReleaseNotice Notice) : Message;

/// <summary>The old holder wrote the key's value and flag into the new holder's region: the lease has arrived.</summary>
[MemoryPackable]
internal sealed partial record HandedOverMsg(int KeyId) : Message;

/// <summary>The outcome of workflow <c>Ts</c>, whose writes to these keys of the holder waited for it.</summary>
[MemoryPackable]
internal sealed partial record OutcomeMsg(long Ts, [property: WireBool] bool Committed, int[] KeyIds) : Message;

/// <summary>NoCC: the sender finished every workflow of the batch routed to it.</summary>
[MemoryPackable]
internal sealed partial record PeerExecutedMsg(long Batch) : Message;
