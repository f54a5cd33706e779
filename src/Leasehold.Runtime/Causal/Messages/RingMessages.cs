using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Causal.Messages;

/// <summary>Traffic between neighbours on the ring: the deterministic mode delays it with jitter, in order (CausalCluster).</summary>
internal interface IRingMessage;

/// <summary>A write on its lap around the ring, to the next server (CacheServer.Ring.cs).</summary>
internal sealed record RingPropagateMsg(Propagation Propagation) : Message, IRingMessage;

/// <summary>A write became visible at its tail: the notice goes round so every server can integrate it.</summary>
internal sealed record RingStableMsg(StableNotice Notice) : Message, IRingMessage;

/// <summary>The eventual control's one lap: apply the write and pass it on until it is back at its head.</summary>
internal sealed record EventualPropagateMsg(StateKey Key, CausalVersion Version, int Head) : Message, IRingMessage;
