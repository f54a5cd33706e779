using System.Text.Json;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Recovery;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Hosting.Processes;

/// <summary>
/// The driver process's host: it admits the worker processes (each must deploy the driver's workflows), and
/// has them build and retire each incarnation's worker nodes. All its state is owned by its mailbox. A worker
/// process that is refused, lost or silent fails the incarnation that needs it, with a reason that names it:
/// static membership cannot replace a worker (membership on etcd is a later issue).
/// </summary>
internal sealed class RemoteWorkerFleet : IRemoteWorkers, IMessageSink
{
    private readonly int _workers;
    private readonly Endpoint _endpoint;
    private readonly Mailbox _mailbox;
    private readonly Func<IReadOnlyDictionary<string, string>> _fingerprints;
    private readonly TimeSpan _joinTimeout;
    private readonly TimeSpan _startTimeout;
    private readonly Dictionary<int, JoinMsg> _joined = [];
    private readonly SortedDictionary<int, string> _refused = [];
    private readonly SortedDictionary<int, string> _lost = [];
    private readonly Dictionary<int, Superseding> _superseding = [];
    /// <summary>Callers of <see cref="AwaitJoined"/> still waiting: a driver with no incarnations (the causal mode) only needs the joins.</summary>
    private readonly List<Action<string?>> _joinWaiters = [];
    private readonly SortedDictionary<int, WorkerReport> _reports = [];
    private PendingStart? _start;
    private readonly Action<string>? _peerLost;
    private bool _shutDown;

    /// <param name="joinTimeout">how long the first start waits for every worker to join; <see cref="Timeout.InfiniteTimeSpan"/>: for ever
    /// (the deterministic mode, where time may pass while work is pending, so any deadline can expire first).</param>
    /// <param name="startTimeout">how long a start waits for every worker to build its node (infinite: for ever).</param>
    /// <param name="fingerprints">the driver's workflows, name to <see cref="WorkflowFingerprint"/>: every worker must deploy exactly these.</param>
    /// <param name="peerLost">called (on the fleet's mailbox) when a worker process says it lost its link to another worker's: the
    /// batches in flight can never finish, so the driver must fail them as for a link of its own.</param>
    public RemoteWorkerFleet(int workers, IScheduler scheduler, ITransport transport, Func<IReadOnlyDictionary<string, string>> fingerprints, TimeSpan joinTimeout, TimeSpan startTimeout,
        Action<string>? peerLost = null)
    {
        _peerLost = peerLost;
        _workers = workers;
        _fingerprints = fingerprints;
        _joinTimeout = joinTimeout;
        _startTimeout = startTimeout;
        _mailbox = scheduler.CreateMailbox("driver-host");
        _endpoint = transport.Register(NodeId.DriverHost, new Incarnation(0), _mailbox, this);
    }

    /// <summary>Worker indexes that have joined (read it on any thread: a copy).</summary>
    public IReadOnlyList<int> Joined
    {
        get { lock (_joined) return [.. _joined.Keys.Order()]; }
    }

    /// <summary>The reports the worker processes sent as they shut down (a copy; read on any thread).</summary>
    public IReadOnlyList<WorkerReport> Reports
    {
        get { lock (_reports) return [.. _reports.Values]; }
    }

    public void Start(int number, long firstBatch, ClusterOptions options, Action<string?> done)
    {
        var json = JsonSerializer.Serialize(options);
        _mailbox.Post(() =>
        {
            if (_start is { } previous) previous.Finish($"incarnation {number} started before incarnation {previous.Number} had");
            var start = _start = new PendingStart(number, firstBatch, json, done);
            if (Unavailable() is { } reason)
            {
                Finish(start, reason);
                return;
            }
            if (AllJoined) Begin(start);
            // Joins are awaited at the first start only, once: later starts find every worker joined, or fail above.
            else if (_joinTimeout != Timeout.InfiniteTimeSpan) _mailbox.PostAfter(_joinTimeout, () =>
            {
                if (_start == start && !start.Begun) Finish(start, $"the worker processes did not all join within {_joinTimeout.TotalSeconds:0} s: {MissingWorkers()}");
            });
        });
    }

    /// <summary>
    /// Calls <paramref name="done"/> once every worker has joined (null), or at once with the reason when one is refused,
    /// lost, or (unless the join timeout is infinite) not joined in time. On the fleet's mailbox.
    /// </summary>
    public void AwaitJoined(Action<string?> done) => _mailbox.Post(() =>
    {
        if ((Unavailable() ?? RefusedWorkers()) is { } failure) done(failure);
        else if (AllJoined) done(null);
        else
        {
            _joinWaiters.Add(done);
            if (_joinTimeout != Timeout.InfiniteTimeSpan) _mailbox.PostAfter(_joinTimeout, () =>
            {
                if (_joinWaiters.Remove(done)) done($"the worker processes did not all join within {_joinTimeout.TotalSeconds:0} s: {MissingWorkers()}");
            });
        }
    });

    private void FinishJoinWaiters(string? failure)
    {
        var waiters = _joinWaiters.ToList();
        _joinWaiters.Clear();
        foreach (var done in waiters) done(failure);
    }

    private string? RefusedWorkers() => _refused.Count == 0 ? null : string.Join("; ", _refused.Values);

    public void Supersede(int number, Action whenQuiet) => _mailbox.Post(() =>
    {
        var waiting = new SortedSet<int>(Enumerable.Range(0, _workers).Where(i => _joined.ContainsKey(i) && !_lost.ContainsKey(i)));
        foreach (int i in waiting) _endpoint.Send(NodeId.WorkerHost(i), new SupersedeMsg(number));
        var superseding = new Superseding(waiting, whenQuiet);
        if (waiting.Count == 0) superseding.Quiet();
        else _superseding[number] = superseding;
    });

    /// <summary>
    /// Asks every joined worker process what it waits for and calls <paramref name="answer"/> (on the fleet's mailbox)
    /// with one line per worker, in worker order, once each has answered (a lost worker is named as lost); after
    /// <paramref name="patience"/> (unless infinite) a worker that has not answered is named as silent: a frozen process.
    /// </summary>
    public void Describe(TimeSpan patience, Action<IReadOnlyList<string>> answer) =>
        _mailbox.Post(() =>
        {
            var answers = new SortedDictionary<int, string>();
            foreach (var (i, reason) in _lost) answers[i] = $"worker {i}: lost ({reason})";
            foreach (int i in Enumerable.Range(0, _workers).Where(i => !_joined.ContainsKey(i) && !_lost.ContainsKey(i))) answers[i] = $"worker {i}: not joined";
            if (Ask(_describing, new DescribeMsg(), answers, answer) is { } question && patience != Timeout.InfiniteTimeSpan)
                _mailbox.PostAfter(patience, () =>
                {
                    foreach (int i in Enumerable.Range(0, _workers)) Answer(_describing, i, $"worker {i}: did not answer within {patience.TotalSeconds:0} s (its process is alive but not running?)", only: question);
                });
        });

    /// <summary>
    /// Asks every joined, live worker process for its counters now and calls <paramref name="answer"/> (on the fleet's
    /// mailbox) with them once all have answered: a measured window's start. The caller bounds the wait.
    /// </summary>
    public void RequestReports(Action<IReadOnlyList<WorkerReport>> answer) =>
        _mailbox.Post(() => Ask(_reporting, new ReportRequestMsg(), [], answer));

    /// <summary>Questions of <see cref="Describe"/> and <see cref="RequestReports"/> still open.</summary>
    private readonly List<Question<string>> _describing = [];
    private readonly List<Question<WorkerReport>> _reporting = [];

    /// <summary>A question put to every live worker: the answers so far (and those known without asking), how many are still due, who waits.</summary>
    private sealed class Question<T>(int due, SortedDictionary<int, T> answers, Action<IReadOnlyList<T>> caller)
    {
        /// <summary>Takes <paramref name="worker"/>'s answer (a second one, or one for a worker not asked, is ignored); true once every answer is in and the caller has them.</summary>
        public bool Answered(int worker, T answer)
        {
            if (!answers.TryAdd(worker, answer) || --due > 0) return false;
            caller([.. answers.Values]);
            return true;
        }
    }

    /// <summary>Puts <paramref name="question"/> to every joined, live worker; the question left open, or null when nobody was asked (answered at once).</summary>
    private Question<T>? Ask<T>(List<Question<T>> open, Message question, SortedDictionary<int, T> known, Action<IReadOnlyList<T>> answer)
    {
        var asked = Enumerable.Range(0, _workers).Where(i => _joined.ContainsKey(i) && !_lost.ContainsKey(i)).ToList();
        if (asked.Count == 0)
        {
            answer([.. known.Values]);
            return null;
        }
        var pending = new Question<T>(asked.Count, known, answer);
        open.Add(pending);
        foreach (int i in asked) _endpoint.Send(NodeId.WorkerHost(i), question);
        return pending;
    }

    private static void Answer<T>(List<Question<T>> open, int worker, T answer, Question<T>? only = null) =>
        open.RemoveAll(q => (only is null || q == only) && q.Answered(worker, answer));

    public void Shutdown(string reason) => _mailbox.Post(() =>
    {
        if (_shutDown) return;
        _shutDown = true;
        foreach (int i in _joined.Keys.Order())
            if (!_lost.ContainsKey(i)) _endpoint.Send(NodeId.WorkerHost(i), new ShutdownMsg(reason));
        _shutdownSent.TrySetResult();
    });

    private readonly TaskCompletionSource _shutdownSent = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes once the shutdown messages are handed to the transport: a process that closes its links after this
    /// and flushes them (<see cref="Transport.Links.LinkTransport.FlushAsync"/>) lets every worker hear why it stops.
    /// </summary>
    public Task ShutdownSent => _shutdownSent.Task;

    /// <summary>The link to the process of these workers was lost: they cannot take part in any later incarnation.</summary>
    public void Lost(IEnumerable<int> workers, string reason)
    {
        var lost = workers.ToArray();
        _mailbox.Post(() =>
        {
            foreach (int i in lost) OnLost(i, reason);
        });
    }

    public void Receive(Message message)
    {
        if (message.From.Role != NodeRole.Host || message.From.Index == 0 || message.From.Index > _workers)
            throw new InvalidOperationException($"the driver's host: {message.GetType().Name} from {message.From}, which is no worker's host");
        int worker = message.From.Index - 1;
        switch (message)
        {
            case JoinMsg join: OnJoin(worker, join); break;
            case IncarnationStartedMsg started: OnStarted(worker, started.Number); break;
            case QuietMsg quiet: OnQuiet(worker, quiet.Number); break;
            case PeerLostMsg peerLost:
                string reason = $"worker-{worker} lost a link: {peerLost.Reason}";
                OnLost(worker, reason);
                // Once the cluster is shutting down, workers exit one after another and their peers see the links close: no failure.
                if (!_shutDown) _peerLost?.Invoke(reason);
                break;
            case DescriptionMsg description: Answer(_describing, worker, description.Text); break;
            case WorkerReportMsg report:
                var counted = new WorkerReport(worker, report.LocalAccesses, report.RemoteAccesses, report.LeaseTransfers, report.OneSidedOperations, report.WireBytesSent,
                    TimeSpan.FromMicroseconds(report.CpuMicroseconds));
                if (report.Final) lock (_reports) _reports[worker] = counted;
                else Answer(_reporting, worker, counted);
                break;
            default: throw new InvalidOperationException($"the driver's host: unexpected {message.GetType().Name} from {message.From}");
        }
    }

    private void OnJoin(int worker, JoinMsg join)
    {
        if (WorkflowsDiffer(join) is { } difference)
        {
            string reason = $"worker-{worker} (process '{join.Process}') was refused: {difference}";
            _refused[worker] = reason;
            _endpoint.Send(NodeId.WorkerHost(worker), new JoinRefusedMsg(reason));
            // Static membership has no other process to run this worker: the start fails now, naming why.
            if (_start is { Begun: false } waiting) Finish(waiting, reason);
            FinishJoinWaiters(reason);
            return;
        }
        if (join.Worker != worker || _joined.ContainsKey(worker))
        {
            string reason = join.Worker != worker
                ? $"the host of worker-{worker} asked to join as worker-{join.Worker}"
                : $"worker-{worker} asked to join twice (process '{join.Process}', after '{_joined[worker].Process}')";
            _endpoint.Send(NodeId.WorkerHost(worker), new JoinRefusedMsg(reason));
            return;
        }
        _refused.Remove(worker);
        lock (_joined) _joined[worker] = join;
        if (_start is { Begun: false } start && AllJoined) Begin(start);
        if (AllJoined) FinishJoinWaiters(null);
    }

    /// <summary>How the worker's workflows differ from the driver's (null: they do not), naming each difference.</summary>
    private string? WorkflowsDiffer(JoinMsg join)
    {
        var theirs = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < join.Workflows.Length; i++) theirs[join.Workflows[i]] = join.Fingerprints[i];
        var differences = new List<string>();
        var ours = _fingerprints();
        foreach (var (name, fingerprint) in ours.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!theirs.TryGetValue(name, out var other)) differences.Add($"it lacks workflow '{name}'");
            else if (other != fingerprint) differences.Add($"its workflow '{name}' has definition {other}, the driver's has {fingerprint}");
        }
        foreach (var name in theirs.Keys.Where(n => !ours.ContainsKey(n)).Order(StringComparer.Ordinal))
            differences.Add($"it has workflow '{name}', which the driver does not");
        return differences.Count == 0 ? null : "its workflows differ from the driver's: " + string.Join("; ", differences.Take(10)) + (differences.Count > 10 ? "; …" : "");
    }

    private void Begin(PendingStart start)
    {
        start.Begun = true;
        for (int i = 0; i < _workers; i++)
        {
            start.Waiting.Add(i);
            _endpoint.Send(NodeId.WorkerHost(i), new StartIncarnationMsg(start.Number, start.FirstBatch, start.Options));
        }
        if (_startTimeout != Timeout.InfiniteTimeSpan) _mailbox.PostAfter(_startTimeout, () =>
        {
            if (_start == start)
                Finish(start, $"incarnation {start.Number} did not start within {_startTimeout.TotalSeconds:0} s on {string.Join(", ", start.Waiting.Select(i => $"worker-{i}"))}");
        });
    }

    private void OnStarted(int worker, int number)
    {
        if (_start is not { Begun: true } start || start.Number != number) return; // a start that already failed
        start.Waiting.Remove(worker);
        if (start.Waiting.Count == 0) Finish(start, null);
    }

    private void OnQuiet(int worker, int number)
    {
        if (!_superseding.TryGetValue(number, out var superseding)) return;
        superseding.Waiting.Remove(worker);
        if (superseding.Waiting.Count == 0)
        {
            _superseding.Remove(number);
            superseding.Quiet();
        }
    }

    private void OnLost(int worker, string reason)
    {
        if (!_lost.TryAdd(worker, reason)) return;
        // A question put to it is answered for it: a stuck cluster's description names the loss instead of waiting it out.
        Answer(_describing, worker, $"worker {worker}: lost ({reason})");
        // A lost process's store calls cannot be waited for: what it may still write belongs to batches that never
        // committed, whose versions recovery discards.
        foreach (var number in _superseding.Keys.Order().ToList()) OnQuiet(worker, number);
        if (_start is { } start) Finish(start, Unavailable()!);
        FinishJoinWaiters(Unavailable()!);
    }

    private void Finish(PendingStart start, string? failure)
    {
        if (_start == start) _start = null;
        start.Finish(failure);
    }

    /// <summary>
    /// Why no incarnation can start, or null. A refusal comes first: a refused worker process exits, so its link is lost
    /// too, but the refusal is the cause the user can act on, whichever of the two the driver heard of first.
    /// </summary>
    private string? Unavailable() =>
        _refused.Count > 0 ? string.Join("; ", _refused.Values)
        : _lost.Count > 0 ? $"{string.Join("; ", _lost.Values)}; a cluster with static membership cannot replace a worker process, so it stopped"
        : null;

    private bool AllJoined => _joined.Count == _workers;

    private string MissingWorkers() => string.Join("; ", Enumerable.Range(0, _workers).Where(i => !_joined.ContainsKey(i))
        .Select(i => _refused.TryGetValue(i, out var why) ? why : $"worker-{i} never joined"));

    private sealed class PendingStart(int number, long firstBatch, string options, Action<string?> done)
    {
        private Action<string?>? _done = done;
        public int Number { get; } = number;
        public long FirstBatch { get; } = firstBatch;
        public string Options { get; } = options;
        public bool Begun { get; set; }
        public SortedSet<int> Waiting { get; } = [];

        public void Finish(string? failure)
        {
            var done = _done;
            _done = null;
            done?.Invoke(failure);
        }
    }

    private sealed class Superseding(SortedSet<int> waiting, Action whenQuiet)
    {
        public SortedSet<int> Waiting { get; } = waiting;
        public void Quiet() => whenQuiet();
    }
}

/// <summary>One worker process's counters for its whole run, as it reported them at shutdown.</summary>
/// <param name="Cpu">the worker process's CPU time (all threads, user and kernel) over its whole life</param>
public sealed record WorkerReport(int Worker, long LocalAccesses, long RemoteAccesses, long LeaseTransfers, long OneSidedOperations, long WireBytesSent, TimeSpan Cpu);
