namespace Leasehold.Runtime.Scheduling;

/// <summary>
/// Parks actions until their deadline and runs them on one dedicated thread, like a network card
/// completing operations. The thread sleeps until just before the earliest deadline (a precise, wakeable
/// wait: see <see cref="PreciseWaiter"/>) and yields the core for the last 50 µs, so a parked operation
/// costs waiting time, not CPU time; an earlier deadline arriving meanwhile wakes it.
/// </summary>
internal sealed class DeadlineQueue : IDisposable
{
    private readonly PriorityQueue<Action, (long Deadline, long Seq)> _queue = new();
    private readonly Lock _lock = new();
    private const long WakeUpLatencyNs = 50_000;
    /// <summary>When the thread will wake by itself (timestamp); long.MinValue while it is awake.</summary>
    private long _sleepingUntil = long.MinValue;
    private readonly PreciseWaiter _waiter = new();
    private readonly TimeProvider _time;
    private readonly Action<Exception> _onFault;
    private readonly Thread _thread;
    private long _seq;
    private volatile bool _stopped;

    public DeadlineQueue(TimeProvider time, Action<Exception> onFault)
    {
        _time = time;
        _onFault = onFault;
        _thread = new Thread(Run) { IsBackground = true, Name = "leasehold-deadlines" };
        _thread.Start();
    }

    public void Schedule(TimeSpan delay, Action action)
    {
        long deadline = _time.GetTimestamp() + (long)(delay.TotalSeconds * _time.TimestampFrequency);
        bool earliest;
        lock (_lock)
        {
            _queue.Enqueue(action, (deadline, _seq++));
            earliest = _queue.TryPeek(out _, out var head) && head.Deadline == deadline;
        }
        // Wake the thread only if it sleeps past this deadline: a syscall per message would cost more than it saves.
        if (earliest && deadline < Volatile.Read(ref _sleepingUntil)) _waiter.Wake();
    }

    private void Run()
    {
        _waiter.TuneCurrentThread();
        var due = new List<Action>(64);
        while (!_stopped)
        {
            long now = _time.GetTimestamp();
            long wait = long.MaxValue;
            lock (_lock)
            {
                while (_queue.TryPeek(out var action, out var key))
                {
                    if (key.Deadline > now) { wait = key.Deadline - now; break; }
                    _queue.Dequeue();
                    due.Add(action);
                }
            }
            foreach (var action in due)
            {
                try { action(); }
                catch (Exception e) { _onFault(e); }
            }
            if (due.Count > 0) { due.Clear(); continue; }
            long waitNs = wait == long.MaxValue ? 100_000_000 : (long)(wait * (1e9 / _time.TimestampFrequency));
            // A wake-up from a timed sleep takes tens of microseconds on a VM: sleep until just before the
            // deadline, then yield the core for the last stretch, so short waits stay accurate and cheap.
            if (waitNs > WakeUpLatencyNs)
            {
                Volatile.Write(ref _sleepingUntil, wait == long.MaxValue ? long.MaxValue : now + wait);
                // Re-check after publishing: a deadline scheduled just before saw us awake and did not wake us.
                bool earlier;
                lock (_lock) earlier = _queue.TryPeek(out _, out var head) && (wait == long.MaxValue || head.Deadline < now + wait);
                if (!earlier) _waiter.Wait(waitNs - WakeUpLatencyNs);
                Volatile.Write(ref _sleepingUntil, long.MinValue);
            }
            else Thread.Yield();
        }
    }

    public void Dispose()
    {
        _stopped = true;
        _waiter.Wake();
        _thread.Join();
        _waiter.Dispose();
    }
}
