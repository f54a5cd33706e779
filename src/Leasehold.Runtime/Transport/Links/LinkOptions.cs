using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Runtime.Transport.Links;

/// <summary>How a process's links behave: their bounds, how long start may take, and what a frame may hold.</summary>
public sealed record LinkOptions
{
    /// <summary>
    /// Frames one peer's outbound queue holds before a send waits. With <see cref="MaxQueuedBytes"/> it bounds
    /// the memory a peer that stops reading can cost: a send waits (its mailbox thread blocks) until the writer
    /// drains the queue. A frame larger than the byte bound still goes, alone, so no message is unsendable.
    /// </summary>
    public int MaxQueuedFrames { get; init; } = 4096;

    /// <summary>Bytes (frames, headers included) one peer's outbound queue holds before a send waits.</summary>
    public long MaxQueuedBytes { get; init; } = 8 << 20;

    /// <summary>
    /// Completions this process owes a peer (for the one-sided operations it serves) that may wait unsent. The
    /// reader never waits (a reader that waits on its own writer can deadlock two processes), so a peer that
    /// keeps asking and never reads the answers past this bound has its link fenced instead.
    /// </summary>
    public long MaxOwedCompletionBytes { get; init; } = 256 << 20;

    /// <summary>How long <see cref="LinkTransport.StartAsync"/> keeps dialing peers that are not up yet.</summary>
    public TimeSpan StartDeadline { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The first wait between dial attempts; it doubles up to <see cref="MaxDialBackoff"/>.</summary>
    public TimeSpan FirstDialBackoff { get; init; } = TimeSpan.FromMilliseconds(20);

    public TimeSpan MaxDialBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a handshake may take once connected: a silent peer cannot hold a connection open.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>What a decoded frame may hold; <see cref="WireLimits.MaxFrameBytes"/> is checked on the header, before the body is awaited.</summary>
    public WireLimits Limits { get; init; } = WireLimits.Default;

    /// <summary>Where refusals and link losses are logged (null: nowhere; they are counted and kept either way).</summary>
    public Action<string>? Log { get; init; }

    public void Validate()
    {
        if (MaxQueuedFrames < 1) throw new ArgumentOutOfRangeException(nameof(MaxQueuedFrames), MaxQueuedFrames, "a link's queue holds at least one frame");
        if (MaxQueuedBytes < 1) throw new ArgumentOutOfRangeException(nameof(MaxQueuedBytes), MaxQueuedBytes, "a link's queue holds at least one byte");
        if (MaxOwedCompletionBytes < 1) throw new ArgumentOutOfRangeException(nameof(MaxOwedCompletionBytes), MaxOwedCompletionBytes, "must be positive");
        if (StartDeadline <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(StartDeadline), StartDeadline, "must be positive");
        if (FirstDialBackoff <= TimeSpan.Zero || MaxDialBackoff < FirstDialBackoff) throw new ArgumentOutOfRangeException(nameof(FirstDialBackoff), FirstDialBackoff, "backoff must be positive and at most MaxDialBackoff");
        if (HandshakeTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(HandshakeTimeout), HandshakeTimeout, "must be positive");
        ArgumentNullException.ThrowIfNull(Limits);
    }
}
