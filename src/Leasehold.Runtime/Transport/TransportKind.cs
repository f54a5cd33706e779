using Leasehold.Runtime.Scheduling;

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
    public static ITransport Create(TransportKind kind, IScheduler scheduler, TimeSpan linkLatency) => kind switch
    {
        TransportKind.Inproc => new InprocTransport(scheduler, linkLatency),
        TransportKind.InprocSerialising => new SerialisingInprocTransport(scheduler, linkLatency),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown transport"),
    };
}
