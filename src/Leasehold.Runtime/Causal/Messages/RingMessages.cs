using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Wire;
using MemoryPack;

namespace Leasehold.Runtime.Causal.Messages;

/// <summary>Traffic between neighbours on the ring: the deterministic mode delays it with jitter, in order (CausalCluster).</summary>
internal interface IRingMessage;

/// <summary>A write on its lap around the ring, to the next server (CacheServer.Ring.cs).</summary>
[MemoryPackable]
internal sealed partial record RingPropagateMsg([property: MemoryPackAllowSerialize] Propagation Propagation) : Message, IRingMessage;

/// <summary>A write became visible at its tail: the notice goes round so every server can integrate it.</summary>
[MemoryPackable]
internal sealed partial record RingStableMsg([property: MemoryPackAllowSerialize] StableNotice Notice) : Message, IRingMessage;

/// <summary>The eventual control's one lap: apply the write and pass it on until it is back at its head.</summary>
[MemoryPackable]
internal sealed partial record EventualPropagateMsg([property: MemoryPackAllowSerialize] StateKey Key, [property: MemoryPackAllowSerialize] CausalVersion Version, int Head) : Message, IRingMessage;
