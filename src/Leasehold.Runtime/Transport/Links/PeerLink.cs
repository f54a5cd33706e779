using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Leasehold.Runtime.Transport.Membership;
using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Runtime.Transport.Links;

/// <summary>
/// This process's link to one peer process: two authenticated connections, one per direction. On the one
/// we dialed we write (messages, our one-sided requests, completions we owe); on the one the peer dialed we
/// read. Any failure on either fences the whole link for good (<see cref="Fence"/>): both sockets close, the
/// queue drops later sends, and the transport raises its link-lost event once.
/// </summary>
internal sealed class PeerLink
{
    private readonly LinkTransport _transport;
    private readonly Lock _attaching = new();
    private readonly TaskCompletionSource _outboundReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _inboundReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Socket? _outbound, _inbound;
    private int _fenced;
    private string? _fenceReason;
    private long _requestIds;
    private long _written;
    /// <summary>This link's own counts, for a stuck cluster's description: messages queued for the peer and received from it, frames written and read.</summary>
    internal long MessagesQueued, MessagesReceived, FramesWritten, FramesRead;

    public PeerLink(LinkTransport transport, ProcessEntry process, LinkOptions options)
    {
        _transport = transport;
        Process = process;
        Queue = new OutboundQueue(options.MaxQueuedFrames, options.MaxQueuedBytes, options.MaxOwedCompletionBytes);
    }

    public ProcessEntry Process { get; }
    public string Name => Process.Name;
    public OutboundQueue Queue { get; }
    public bool IsFenced => Volatile.Read(ref _fenced) != 0;
    public string? FenceReason => Volatile.Read(ref _fenceReason);
    public bool OutboundUp => _outboundReady.Task.IsCompletedSuccessfully;
    public bool InboundUp => _inboundReady.Task.IsCompletedSuccessfully;
    /// <summary>Both directions authenticated.</summary>
    public Task Ready => Task.WhenAll(_outboundReady.Task, _inboundReady.Task);
    /// <summary>Frames the writer has handed to the socket (flushed), of the <see cref="OutboundQueue.Added"/> queued.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Why the last dial attempt failed (for start's error), if it did.</summary>
    public string? LastDialError { get; set; }

    /// <summary>A fresh id for a one-sided request: the frame's link sequence, echoed by its completion.</summary>
    public ulong NextRequestId() => (ulong)Interlocked.Increment(ref _requestIds);

    /// <summary>Why the peer may not attach an inbound connection now, or null.</summary>
    public string? InboundRefusal()
    {
        lock (_attaching)
        {
            if (IsFenced) return $"'{Name}' dialed again after its link was lost ({FenceReason}); links are never reconnected";
            if (_inbound is not null) return $"'{Name}' dialed a second time; it has a link already";
            return null;
        }
    }

    public bool TryReserveInbound(Socket socket)
    {
        lock (_attaching)
        {
            if (IsFenced || _inbound is not null) return false;
            _inbound = socket;
            return true;
        }
    }

    /// <summary>Starts reading the connection the peer dialed (already authenticated and accepted).</summary>
    public void StartReading(Stream stream)
    {
        _inboundReady.TrySetResult();
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 << 10, minimumReadSize: 16 << 10, leaveOpen: true));
        _ = Task.Run(() => ReadLoopAsync(reader));
    }

    /// <summary>Starts writing on the connection we dialed (authenticated); false if the link was fenced meanwhile.</summary>
    public bool StartWriting(Socket socket, Stream stream)
    {
        lock (_attaching)
        {
            if (IsFenced || _outbound is not null) return false;
            _outbound = socket;
        }
        _outboundReady.TrySetResult();
        var writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 64 << 10, leaveOpen: true));
        _ = Task.Run(() => WriteLoopAsync(writer));
        return true;
    }

    /// <summary>
    /// The writer: takes every frame queued, copies them into the pipe, and flushes once per burst (coalescing).
    /// A peer that stops reading stalls the flush, the queue fills, and senders wait at its bound.
    /// </summary>
    private async Task WriteLoopAsync(PipeWriter writer)
    {
        try
        {
            while (await Queue.TakeAllAsync().ConfigureAwait(false) is { } frames)
            {
                long bytes = 0;
                foreach (var frame in frames)
                {
                    Copy(frame.Span, writer);
                    bytes += frame.Length;
                    frame.Return();
                }
                Interlocked.Add(ref _transport.Counters.FramesSentValue, frames.Count);
                Interlocked.Add(ref FramesWritten, frames.Count);
                Interlocked.Add(ref _transport.Counters.BytesSentValue, bytes);
                var flushed = await writer.FlushAsync().ConfigureAwait(false);
                Interlocked.Increment(ref _transport.Counters.FlushesValue);
                Interlocked.Add(ref _written, frames.Count);
                if (flushed.IsCompleted || flushed.IsCanceled) break;
            }
            Fence("the connection to the peer closed");
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            Fence($"writing to the peer failed: {e.Message}");
        }
        catch (Exception e)
        {
            // A bug, not the network: the writer must never die silently, or frames would queue for ever unwritten.
            Fence(Unexpected("writing to", e));
        }
        try { await writer.CompleteAsync().ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException) { } // the socket is gone already
    }

    private static void Copy(ReadOnlySpan<byte> frame, PipeWriter writer)
    {
        while (!frame.IsEmpty)
        {
            var span = writer.GetSpan();
            int n = Math.Min(span.Length, frame.Length);
            frame[..n].CopyTo(span);
            writer.Advance(n);
            frame = frame[n..];
        }
    }

    /// <summary>
    /// The reader: decodes every whole frame in the buffer, then advances past them, having examined all of it.
    /// It never waits on a mailbox: messages are posted, one-sided requests are served here and their
    /// completions queued without waiting.
    /// </summary>
    private async Task ReadLoopAsync(PipeReader reader)
    {
        string reason;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                var fault = TakeFrames(ref buffer);
                if (fault is not null)
                {
                    reason = fault;
                    break;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    reason = buffer.IsEmpty ? "the peer closed the connection" : $"the peer closed the connection in the middle of a frame ({buffer.Length} bytes of it arrived)";
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            reason = $"reading from the peer failed: {e.Message}";
        }
        catch (Exception e)
        {
            // A bug, not the network (a frame's handling threw): a reader that died silently would lose this frame
            // and every later one while the link still looked up, and the cluster would wait for ever.
            reason = Unexpected("reading from", e);
        }
        Fence(reason);
        await reader.CompleteAsync().ConfigureAwait(false); // returns the pipe's buffers to their pool
    }

    /// <summary>Handles each whole frame at the start of <paramref name="buffer"/>, leaving it at the first partial one; a reason to fence, or null.</summary>
    private string? TakeFrames(ref ReadOnlySequence<byte> buffer)
    {
        var limits = _transport.Options.Limits;
        Span<byte> headerBytes = stackalloc byte[WireHeader.Size];
        while (buffer.Length >= WireHeader.Size && !IsFenced)
        {
            buffer.Slice(0, WireHeader.Size).CopyTo(headerBytes);
            var (magic, version) = WireHeader.ReadPreamble(headerBytes);
            if (magic != WireHeader.Magic) return $"malformed frame: {WireRefusalKind.BadMagic} 0x{magic:X4}";
            if (version != WireHeader.ProtocolVersion) return $"malformed frame: {WireRefusalKind.UnknownVersion} {version}; this build speaks {WireHeader.ProtocolVersion}";
            var header = WireHeader.Read(headerBytes);
            // Checked on the header, before waiting for (or buffering) a body a hostile peer only announced.
            long frameLength = WireHeader.Size + (long)header.BodyLength;
            if (frameLength > limits.MaxFrameBytes) return $"malformed frame: {WireRefusalKind.Oversized}: a frame of {frameLength} bytes; the limit is {limits.MaxFrameBytes}";
            if (buffer.Length < frameLength) break;
            var frame = buffer.Slice(0, frameLength);
            Interlocked.Increment(ref _transport.Counters.FramesReceivedValue);
            Interlocked.Increment(ref FramesRead);
            Interlocked.Add(ref _transport.Counters.BytesReceivedValue, frameLength);
            string? fault;
            if (frame.IsSingleSegment) fault = _transport.Receive(this, frame.FirstSpan, header.LinkSequence);
            else
            {
                var copy = ArrayPool<byte>.Shared.Rent((int)frameLength);
                try
                {
                    frame.CopyTo(copy);
                    fault = _transport.Receive(this, copy.AsSpan(0, (int)frameLength), header.LinkSequence);
                }
                finally { ArrayPool<byte>.Shared.Return(copy); }
            }
            if (fault is not null) return fault;
            buffer = buffer.Slice(frameLength);
        }
        return null;
    }

    /// <summary>The reason a loop's unexpected exception fences the link with: its type, message and where it was thrown, also logged.</summary>
    private string Unexpected(string doing, Exception e)
    {
        string reason = $"{doing} the peer failed on an internal error: {e.GetType().Name}: {e.Message}";
        _transport.Options.Log?.Invoke($"link to '{Name}': {reason}{Environment.NewLine}{e}");
        return reason;
    }

    /// <summary>Fences the link for good, once: closes both connections, drops queued and later sends, and reports the loss.</summary>
    public void Fence(string reason, bool report = true)
    {
        if (Interlocked.Exchange(ref _fenced, 1) != 0) return;
        Volatile.Write(ref _fenceReason, reason);
        Queue.Close();
        Socket? outbound, inbound;
        lock (_attaching)
        {
            outbound = _outbound;
            inbound = _inbound;
        }
        Close(outbound);
        Close(inbound);
        _outboundReady.TrySetException(new LinkStartException($"the link to '{Name}' was lost: {reason}"));
        _inboundReady.TrySetException(new LinkStartException($"the link to '{Name}' was lost: {reason}"));
        if (report) _transport.OnLinkLost(this, reason);
    }

    private static void Close(Socket? socket)
    {
        if (socket is null) return;
        try { socket.Shutdown(SocketShutdown.Both); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        socket.Dispose();
    }

    public override string ToString() => $"link to '{Name}'{(IsFenced ? $" (fenced: {FenceReason})" : "")}";
}
