namespace Leasehold.Runtime.Transport.Links;

/// <summary>
/// One peer's bounded queue of frames to write. Senders (mailbox threads) wait while it is full; the link's
/// writer takes everything queued at once and flushes it as one burst. Completions the reader owes the peer
/// never wait (<see cref="TryEnqueueOwed"/>): they have a bound of their own, past which the link is fenced.
/// Closing it wakes every waiting sender, whose frame is then dropped.
/// </summary>
internal sealed class OutboundQueue(int maxFrames, long maxBytes, long maxOwedBytes)
{
    private readonly object _gate = new(); // Monitor, for Wait/PulseAll
    private List<OutboundFrame> _frames = [];
    private List<OutboundFrame> _spare = [];
    private long _bytes;
    private bool _closed;
    private TaskCompletionSource? _writerWaiting;
    private long _waits;
    private int _waiting;
    private long _added;

    /// <summary>Frames queued since the link was made (each counted once, whether or not it was written).</summary>
    public long Added => Interlocked.Read(ref _added);

    /// <summary>Times a send found the queue full and waited.</summary>
    public long Waits => Interlocked.Read(ref _waits);

    /// <summary>Senders waiting for room right now.</summary>
    public int WaitingSenders => Volatile.Read(ref _waiting);

    /// <summary>Bytes queued and not yet taken by the writer.</summary>
    public long QueuedBytes
    {
        get { lock (_gate) return _bytes; }
    }

    /// <summary>Queues <paramref name="frame"/>, waiting while the queue is at its bound; false (frame not queued) once closed.</summary>
    public bool Enqueue(OutboundFrame frame)
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            bool counted = false;
            while (!_closed && _frames.Count > 0 && (_frames.Count >= maxFrames || _bytes + frame.Length > maxBytes))
            {
                if (!counted) Interlocked.Increment(ref _waits);
                counted = true;
                Interlocked.Increment(ref _waiting);
                try { Monitor.Wait(_gate); }
                finally { Interlocked.Decrement(ref _waiting); }
            }
            if (_closed) return false;
            wake = Add(frame);
        }
        wake?.TrySetResult();
        return true;
    }

    /// <summary>Queues a completion without waiting; false when closed or when the peer owes us reading beyond the bound.</summary>
    public bool TryEnqueueOwed(OutboundFrame frame)
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            if (_closed || _bytes + frame.Length > maxOwedBytes) return false;
            wake = Add(frame);
        }
        wake?.TrySetResult();
        return true;
    }

    private TaskCompletionSource? Add(OutboundFrame frame)
    {
        _frames.Add(frame);
        _bytes += frame.Length;
        Interlocked.Increment(ref _added);
        var wake = _writerWaiting;
        _writerWaiting = null;
        return wake;
    }

    /// <summary>
    /// Waits for frames and hands over all queued ones (the list is the queue's until the next call: the writer
    /// must be done with it by then). Null once closed.
    /// </summary>
    public async ValueTask<List<OutboundFrame>?> TakeAllAsync()
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_closed) return null;
                if (_frames.Count > 0)
                {
                    var taken = _frames;
                    _spare.Clear();
                    _frames = _spare;
                    _spare = taken;
                    _bytes = 0;
                    Monitor.PulseAll(_gate);
                    return taken;
                }
                _writerWaiting ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _writerWaiting.Task;
            }
            await wait.ConfigureAwait(false);
        }
    }

    /// <summary>Closes the queue: waiting senders wake and drop their frames, queued frames are returned to the pool.</summary>
    public void Close()
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            if (_closed) return;
            _closed = true;
            foreach (var f in _frames) f.Return();
            _frames.Clear();
            _bytes = 0;
            wake = _writerWaiting;
            _writerWaiting = null;
            Monitor.PulseAll(_gate);
        }
        wake?.TrySetResult();
    }
}
