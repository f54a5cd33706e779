namespace Leasehold.Runtime.Scheduling;

/// <summary>
/// The deterministic mode: one thread, virtual time, and every choice drawn from one seed. Each step
/// runs one item of a mailbox chosen at random among those with work; when none has work, virtual time
/// jumps to the next timer. With a timer bias, a step may also let time pass while mailboxes still have
/// work (the next timer fires with that probability), so a delayed message or one-sided operation lands
/// in the middle of other work, as the deadline thread does on real threads. Timers keep their (deadline,
/// scheduling) order, so links stay FIFO. The same seed replays the same interleaving exactly.
/// </summary>
public sealed class DeterministicScheduler : IScheduler, ICountsHandoffs
{
    private readonly VirtualTimeProvider _time = new();
    private readonly Random _random;
    private readonly List<Mailbox> _runnable = [];
    private readonly PriorityQueue<Action, (long Deadline, long Seq)> _timers = new();
    private long _seq;
    private Exception? _fault;

    private readonly double _timerBias;

    public DeterministicScheduler(int seed, double timerBias = 0)
    {
        if (timerBias is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(timerBias), timerBias, "the timer bias is a probability in [0, 1)");
        Seed = seed;
        _timerBias = timerBias;
        _random = new Random(seed);
    }

    public int Seed { get; }
    public TimeProvider Time => _time;
    public VirtualTimeProvider VirtualTime => _time;
    public Exception? Fault => _fault;
    public long Steps { get; private set; }
    /// <summary>A wake-up here is a mailbox joining the runnable set.</summary>
    public HandoffCounters Handoffs { get; } = new();

    public Mailbox CreateMailbox(string name) => new(this, name);

    public void Post(Mailbox mailbox, Action work) => Enqueue(mailbox, MailboxItem.Of(work));

    public void Post(Mailbox mailbox, Action<object> handler, object state) => Enqueue(mailbox, new MailboxItem(handler, state));

    private void Enqueue(Mailbox mailbox, MailboxItem work)
    {
        mailbox.Queue.Enqueue(work);
        Handoffs.Posted();
        if (mailbox.Scheduled == 0)
        {
            Handoffs.WokeUp();
            mailbox.Scheduled = 1;
            _runnable.Add(mailbox);
        }
    }

    public void After(TimeSpan delay, Action action)
    {
        long deadline = _time.Nanoseconds + Math.Max(0, (long)(delay.TotalSeconds * 1e9));
        _timers.Enqueue(action, (deadline, _seq++));
    }

    /// <summary>Runs one step; false when nothing is left to do at all.</summary>
    public bool Step()
    {
        if (_fault is not null) return false;
        if (_timerBias > 0 && _runnable.Count > 0 && _timers.Count > 0 && _random.NextDouble() < _timerBias)
        {
            _timers.TryDequeue(out var early, out var at);
            if (at.Deadline > _time.Nanoseconds) _time.AdvanceTo(at.Deadline);
            Run(MailboxItem.Of(early!));
            return true;
        }
        if (_runnable.Count == 0)
        {
            if (!_timers.TryPeek(out _, out var key)) return false;
            _time.AdvanceTo(key.Deadline);
            while (_timers.TryPeek(out var action, out var k) && k.Deadline == key.Deadline)
            {
                _timers.Dequeue();
                Run(MailboxItem.Of(action));
            }
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
        Run(work);
        return true;
    }

    /// <summary>Steps until <paramref name="done"/> holds or nothing is left; throws when a step limit is hit (a livelock).</summary>
    public void RunUntil(Func<bool> done, long maxSteps = 50_000_000)
    {
        while (!done())
        {
            if (!Step()) return;
            if (Steps > maxSteps) throw new TimeoutException($"seed {Seed}: no progress after {maxSteps} steps");
        }
    }

    /// <summary>Runs until no work and no timer remains.</summary>
    public void RunToQuiescence(long maxSteps = 50_000_000) => RunUntil(() => false, maxSteps);

    private void Run(MailboxItem work)
    {
        Steps++;
        try { work.Run(); }
        catch (Exception e) { _fault ??= e; }
    }
}
