using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Runtime.Transport;

/// <summary>How the nodes of an in-process cluster exchange messages.</summary>
public enum TransportKind
{
    /// <summary>By reference between mailboxes: the fast default.</summary>
    Inproc = 0,
    /// <summary>Every message through the wire codec, decoded into a fresh object at the receiver: proves nothing is shared between nodes.</summary>
    InprocSerialising = 1,
}

public static class Transports
{
    /// <summary>A transport of <paramref name="kind"/>; <paramref name="limits"/> bound the serialising one's frames.</summary>
    public static ITransport Create(TransportKind kind, IScheduler scheduler, TimeSpan linkLatency, WireLimits? limits = null) => kind switch
    {
        TransportKind.Inproc => new InprocTransport(scheduler, linkLatency),
        TransportKind.InprocSerialising => new SerialisingInprocTransport(scheduler, linkLatency, limits),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown transport"),
    };

    /// <summary>
    /// The one-sided memory that goes with a transport of <paramref name="kind"/>: in place for the fast
    /// transport, through the wire codec for the serialising one. <paramref name="limits"/> bound the codec's
    /// frames; give the cluster's <c>MaxValueBytes</c> there when it is above the default.
    /// </summary>
    public static IOneSided CreateOneSided(TransportKind kind, IScheduler scheduler, TimeSpan operationLatency, WireLimits? limits = null) => kind switch
    {
        TransportKind.Inproc => new OneSidedMemory(scheduler, operationLatency),
        TransportKind.InprocSerialising => new SerialisingOneSided(new OneSidedMemory(scheduler, operationLatency), limits),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown transport"),
    };
}
