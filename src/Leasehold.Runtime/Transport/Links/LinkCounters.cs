namespace Leasehold.Runtime.Transport.Links;

/// <summary>
/// What one process's links carried and refused, for "bytes on the wire per committed transaction" and for
/// diagnosing a link that was fenced. Sent and received are counted at the socket: frames and bytes once
/// written (or read), headers included.
/// </summary>
public sealed class LinkCounters
{
    internal long MessagesSentValue, MessagesReceivedValue, FramesSentValue, FramesReceivedValue, BytesSentValue, BytesReceivedValue;
    internal long FlushesValue, SendsDroppedValue, HandshakesRefusedValue;
    private string? _lastHandshakeRefusal;

    /// <summary>Messages (not one-sided frames) queued for another process.</summary>
    public long MessagesSent => Interlocked.Read(ref MessagesSentValue);
    /// <summary>Messages from another process delivered to a local node's mailbox.</summary>
    public long MessagesReceived => Interlocked.Read(ref MessagesReceivedValue);
    public long FramesSent => Interlocked.Read(ref FramesSentValue);
    public long FramesReceived => Interlocked.Read(ref FramesReceivedValue);
    public long BytesSent => Interlocked.Read(ref BytesSentValue);
    public long BytesReceived => Interlocked.Read(ref BytesReceivedValue);
    /// <summary>Flushes to the sockets: one per burst a writer drained, so frames per flush is the coalescing.</summary>
    public long Flushes => Interlocked.Read(ref FlushesValue);
    /// <summary>Frames for a peer whose link was fenced: dropped at send.</summary>
    public long SendsDropped => Interlocked.Read(ref SendsDroppedValue);
    /// <summary>Connections refused during the handshake (no key, another cluster, an unknown or duplicate process), either side.</summary>
    public long HandshakesRefused => Interlocked.Read(ref HandshakesRefusedValue);
    public string? LastHandshakeRefusal => Volatile.Read(ref _lastHandshakeRefusal);

    internal void RefusedHandshake(string reason)
    {
        Interlocked.Increment(ref HandshakesRefusedValue);
        Volatile.Write(ref _lastHandshakeRefusal, reason);
    }

    public override string ToString() =>
        $"messages {MessagesSent} sent / {MessagesReceived} received, frames {FramesSent} / {FramesReceived}, bytes {BytesSent} / {BytesReceived}, " +
        $"flushes {Flushes}, dropped {SendsDropped}, handshakes refused {HandshakesRefused}";
}
