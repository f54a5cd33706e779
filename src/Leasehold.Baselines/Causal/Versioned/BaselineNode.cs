using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Baselines.Causal.Versioned;

/// <summary>A cache or store partition of a baseline: its mailbox and its modelled processor (virtual runs).</summary>
internal sealed class BaselineNode
{
    public BaselineNode(IScheduler scheduler, string name)
    {
        Mailbox = scheduler.CreateMailbox(name);
        Cpu = new ServerCpu(scheduler, Mailbox);
    }

    public Mailbox Mailbox { get; }
    public ServerCpu Cpu { get; }
}

/// <summary>
/// The baselines' messages: every one over the same <see cref="Network"/> as CausalMesh's hops, with the
/// same per-hop latency, and served at the receiving node for <see cref="CausalOptions.MessageServiceTime"/>
/// as a CausalMesh ring message is. Protocol messages (store, notifications, snapshots, fetches, pins) are
/// counted apart from workflow hops and client replies, as CausalMesh's ring messages are.
/// </summary>
internal sealed class BaselineNet(Network network, TimeSpan messageCost)
{
    private long _protocol;

    public Network Network => network;
    public long ProtocolMessages => Interlocked.Read(ref _protocol);

    /// <summary>
    /// A protocol message to a node: one hop, then served there for <paramref name="units"/> service times —
    /// a notification batch costs one per version it carries, as CausalMesh pays one ring message per write,
    /// so batching saves messages and hops but not the work of installing each version.
    /// </summary>
    public void Send(Mailbox from, BaselineNode to, Action handler, int units = 1)
    {
        if (!ReferenceEquals(from, to.Mailbox)) Interlocked.Increment(ref _protocol);
        var cost = messageCost * Math.Max(1, units);
        network.Send(from, to.Mailbox, () => to.Cpu.Serve(cost, handler));
    }

    /// <summary>A protocol message to the clients' mailbox (the hydro-con scheduler): one hop, not modelled as server work.</summary>
    public void SendToClient(Mailbox from, Mailbox client, Action handler)
    {
        Interlocked.Increment(ref _protocol);
        network.Send(from, client, handler);
    }
}
