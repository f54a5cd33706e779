using Leasehold.Runtime.Scheduling;

namespace Leasehold.Tests.Review;

/// <summary>
/// Like <see cref="DeterministicScheduler"/> (one thread, virtual time, one seed), but a step may also
/// take time: with probability <c>timerBias</c> the next timer fires even while mailboxes still have
/// work, so a delayed message or one-sided operation can land in the middle of other work — as on real
/// threads, where the deadline thread runs concurrently with the mailboxes. Per-link FIFO is kept
/// (constant latency, FIFO among equal deadlines).
/// </summary>
public sealed class ChaosScheduler(int seed, double timerBias) : IScheduler
{
    private readonly VirtualTimeProvider _time = new();
    private readonly Random _random = new(seed);
    private readonly List<Mailbox> _runnable = [];
    private readonly PriorityQueue<Action, (long Deadline, long Seq)> _timers = new();
    private long _seq;
    private int _nextMailboxId;
    private Exception? _fault;

    public TimeProvider Time => _time;
    public VirtualTimeProvider VirtualTime => _time;
    public Exception? Fault => _fault;
    public long Steps { get; private set; }

    public Mailbox CreateMailbox(string name) => new(this, name, _nextMailboxId++);

    public void Post(Mailbox mailbox, Action work)
    {
        mailbox.Queue.Enqueue(work);
        if (mailbox.Scheduled == 0)
        {
            mailbox.Scheduled = 1;
            _runnable.Add(mailbox);
        }
    }

    public void After(TimeSpan delay, Action action)
    {
        long deadline = _time.Nanoseconds + Math.Max(0, (long)(delay.TotalSeconds * 1e9));
        _timers.Enqueue(action, (deadline, _seq++));
    }

    public bool Step()
    {
        if (_fault is not null) return false;
        bool fireTimer = _runnable.Count == 0 || (_timers.Count > 0 && _random.NextDouble() < timerBias);
        if (fireTimer)
        {
            if (!_timers.TryPeek(out _, out var key)) return false;
            if (key.Deadline > _time.Nanoseconds) AdvanceTo(key.Deadline);
            var action = _timers.Dequeue();
            Run(action);
            return true;
        }
        int pick = _random.Next(_runnable.Count);
        var mailbox = _runnable[pick];
        mailbox.Queue.TryDequeue(out var work);
        if (mailbox.Queue.IsEmpty)
        {
            mailbox.Scheduled = 0;
            _runnable[pick] = _runnable[^1];
            _runnable.RemoveAt(_runnable.Count - 1);
        }
        Run(work!);
        return true;
    }

    private void AdvanceTo(long ns) => _time.AdvanceTo(ns);

    public void RunUntil(Func<bool> done, long maxSteps = 50_000_000)
    {
        while (!done())
        {
            if (!Step()) return;
            if (Steps > maxSteps) throw new TimeoutException($"seed: no progress after {maxSteps} steps");
        }
    }

    private void Run(Action action)
    {
        Steps++;
        try { action(); }
        catch (Exception e) { _fault ??= e; }
    }
}
