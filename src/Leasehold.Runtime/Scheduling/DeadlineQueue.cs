using System.Diagnostics;

namespace Leasehold.Runtime.Scheduling;

/// <summary>
/// Parks actions until their deadline and runs them on one dedicated thread, like a network card
/// completing operations. Far deadlines wait on an event; the last stretch yields the core
/// (Thread.Sleep of a few microseconds returns late, and pure spinning would measure CPU contention).
/// </summary>
internal sealed class DeadlineQueue : IDisposable
{
    private static readonly long SpinWindowTicks = Stopwatch.Frequency / 1000; // the last millisecond
    private readonly PriorityQueue<Action, (long Deadline, long Seq)> _queue = new();
    private readonly Lock _lock = new();
    private readonly AutoResetEvent _wake = new(false);
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
        if (earliest) _wake.Set();
    }

    private void Run()
    {
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
            if (wait == long.MaxValue) _wake.WaitOne(100);
            else if (wait > SpinWindowTicks) _wake.WaitOne(TimeSpan.FromSeconds((double)(wait - SpinWindowTicks) / _time.TimestampFrequency));
            else Thread.Yield();
        }
    }

    public void Dispose()
    {
        _stopped = true;
        _wake.Set();
        _thread.Join();
        _wake.Dispose();
    }
}
