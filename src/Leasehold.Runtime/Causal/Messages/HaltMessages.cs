using Leasehold.Runtime.Transport;
using MemoryPack;

namespace Leasehold.Runtime.Causal.Messages;

/// <summary>
/// The causal cluster stops for <paramref name="Reason"/> (a lost link: a CausalMesh ring needs reliable FIFO links).
/// A server host that lost a link sends it to the client, which fails every attempt in flight and sends it on to every
/// server, which then runs nothing more: a write is never lost or reordered on a broken ring, it is never made.
/// </summary>
[MemoryPackable]
internal sealed partial record CausalHaltMsg(string Reason) : Message;
