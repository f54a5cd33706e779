using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Storage;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Runtime.Serializable.Driver;

/// <summary>
/// The driver (§2–§3, §7): admits requests with backpressure, stamps strictly increasing timestamps,
/// routes each whole workflow to one worker, cuts batches, assigns leases per batch, sends plans while
/// earlier batches still execute, commits batches in order, and only then answers.
/// <para>
/// Batches close as a database groups its commits, not on a timer: the open batch closes when the previous
/// one has been handed to the workers and the pipeline has room (fewer than <see cref="ClusterOptions.PipelineDepth"/>
/// batches executing or waiting to commit), or at <see cref="ClusterOptions.MaxBatchSize"/>; while the pipeline
/// is full it keeps gathering (<see cref="ClusterOptions.MaxBatchDelay"/> closes it only when there is room). Idle, a request closes its batch as soon
/// as the mailbox has taken what arrived with it; busy, a batch gathers everything that arrived while the
/// previous round was being made durable. The store sees one durable write at a time, made off this mailbox
/// (<see cref="_logMailbox"/>), carrying every closed batch's input and every executed batch's commit record
/// (<see cref="IStateStore.WriteLogAsync"/>): in a busy pipeline one sync serves a commit and the next input.
/// </para>
/// </summary>
internal sealed class ClusterDriver : IMessageSink
{
    private readonly ClusterOptions _options;
    private readonly long _maxParameterBytes;
    private readonly IScheduler _scheduler;
    private readonly Endpoint _endpoint;
    private readonly IStateStore _store;
    private readonly ClusterCounters _counters;
    private readonly KeyDirectory _keys = new();
    private readonly Func<StateKey, int> _intern;
    private readonly Router _router;
    private readonly LeaseTable _leases;
    private readonly Queue<InFlightBatch> _inFlight = new();
    private readonly SemaphoreSlim _admission;
    private readonly Generation _generation;
    private readonly Action<Request> _reroute;
    private readonly Action<Interruption> _onFailure;
    private readonly Dictionary<string, Request> _byKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Request>> _lookingUp = new(StringComparer.Ordinal);
    private long _nextTs;
    private long _nextBatch;
    private OpenBatch? _open;
    // An executed batch's idempotency records are being written (one batch at a time, in order).
    private bool _preparing;
    // The one durable write in flight (inputs and commit records), made on _logMailbox.
    private LogWrite? _writing;
    private readonly Mailbox _logMailbox;
    private bool _failed;
    private readonly long _epoch;
    private readonly BatchClock _clock;
    private long[] _touchedIn = new long[1024];
    private int[] _touchedAt = new int[1024];

    private sealed class OpenBatch(long id, int workers)
    {
        public readonly long Id = id;
        public long FirstTs;
        public readonly List<Request> All = [];
        public readonly List<Request>[] PerWorker = Enumerable.Range(0, workers).Select(_ => new List<Request>()).ToArray();
        public readonly List<(int KeyId, bool Written)> Touched = [];
        /// <summary>Bytes its requests' parameters take at most in its plans (<see cref="ArgsBounds.EncodedBytes"/>).</summary>
        public long ParameterBytes;
    }

    private sealed class InFlightBatch(long id, List<Request> requests, Request[][] perWorker)
    {
        public readonly long Id = id;
        public readonly List<Request> Requests = requests;
        /// <summary>The requests routed to each worker, in the order of its plan and of its executed message.</summary>
        public readonly Request[][] PerWorker = perWorker;
        public readonly bool[] ExecutedBy = new bool[perWorker.Length];
        public int Executed;
        /// <summary>Executed by every worker and its idempotency records written: its commit record may go out.</summary>
        public bool Ready;
        /// <summary>Timestamps (the scheduler's clock) of its phases: closed, plans sent (input logged), executed by every worker.</summary>
        public long ClosedAt, PlannedAt, ExecutedAt;
        /// <summary>Closed here (not replayed from the log): its phases are timed.</summary>
        public bool Timed;
        /// <summary>Its plans went out (its input is durable, or it was replayed from the log).</summary>
        public bool Planned;
    }

    /// <summary>A closed batch whose input is not yet in the log; its plans go out once it is.</summary>
    private sealed record PendingInput(long Batch, byte[] Input, PlanMsg[] Plans);

    /// <summary>One durable write: the inputs it logs and the commit records of batches <c>CommitFrom..CommitThrough</c>.</summary>
    private sealed record LogWrite(PendingInput[] Inputs, long CommitFrom, long CommitThrough)
    {
        public bool Commits => CommitThrough >= CommitFrom;
    }

    public ClusterDriver(ClusterOptions options, IScheduler scheduler, ITransport transport, IStateStore store, ClusterCounters counters,
        Generation generation, DriverStart start, SemaphoreSlim admission, Action<Request> reroute, Action<Interruption> onFailure)
    {
        _options = options;
        _maxParameterBytes = WireLimits.ForValues(options.MaxValueBytes).MaxParameterBytes;
        _scheduler = scheduler;
        _store = store;
        _counters = counters;
        _generation = generation;
        _admission = admission;
        _reroute = reroute;
        _onFailure = onFailure;
        _nextBatch = start.NextBatch;
        _nextTs = start.NextTs;
        LastCommitted = start.LastCommitted;
        _epoch = start.Epoch;
        Mailbox = scheduler.CreateMailbox($"driver#{generation.Number}");
        _logMailbox = scheduler.CreateMailbox($"driver-log#{generation.Number}");
        _endpoint = transport.Register(NodeId.Driver, new Incarnation(generation.Number), Mailbox, this);
        _admit = request => Admit((Request)request);
        _clock = new BatchClock(scheduler, generation, store, Mailbox, start.Time);
        _intern = _keys.Intern;
        Statistics = new AccessStatistics(options.Workers, options.Decay);
        _router = new Router(Statistics, options.Routing, options.AffinityWeight, options.LoadWeight);
        _leases = new LeaseTable(Statistics, options.LeaseHysteresis);
    }

    public Mailbox Mailbox { get; }
    public AccessStatistics Statistics { get; }
    public long LastCommitted { get; private set; }
    public int BatchesInFlight => _inFlight.Count;

    /// <summary>The driver's messages: what its workers report. Anything else is a protocol error.</summary>
    public void Receive(Message message)
    {
        switch (message)
        {
            case ExecutedMsg executed:
                OnWorkerExecuted(executed);
                break;
            case WorkerFailedMsg failed:
                Fail(failed.Reason, commitInDoubt: null);
                break;
            default:
                throw new InvalidOperationException($"driver: unexpected {message.GetType().Name} from {message.From}");
        }
    }

    /// <summary>Hands an admitted request to this driver; thread-safe. Its callback runs after its batch commits.</summary>
    public void Post(Request request) => Mailbox.Post(_admit, request);

    // Created once: an admission posts the request as the handler's state, with no closure per request.
    private readonly Action<object> _admit;

    private void Admit(Request request)
    {
        if (_failed)
        {
            _reroute(request); // this incarnation is being replaced: the next one takes the request
            return;
        }
        if (request.IdempotencyKey is { } key && !ClaimKey(request, key)) return;
        Stamp(request);
    }

    /// <summary>
    /// A request with an idempotency key runs only if no request with that key ran before: one in
    /// flight gets the retry attached to it; a committed one is looked up in the store (its result
    /// record); only when neither exists is the request stamped. False when the request is answered or parked.
    /// </summary>
    private bool ClaimKey(Request request, string key)
    {
        if (_byKey.TryGetValue(key, out var first))
        {
            Attach(first, request);
            return false;
        }
        if (_lookingUp.TryGetValue(key, out var waiting))
        {
            waiting.Add(request);
            return false;
        }
        _lookingUp.Add(key, [request]);
        LookUp(key, attempt: 0);
        return false;
    }

    /// <summary>
    /// Reads the result record of an idempotency key. A failed read changed nothing, so it is retried after
    /// the recovery backoff rather than rolling the incarnation back: under a flaky store, a rollback per failed
    /// read would re-admit every waiting request into a new storm of reads, and no batch would ever commit.
    /// A read that keeps failing for the recovery attempts fails only the requests waiting on it: none of them
    /// ran, so a retry with the key stays safe, and a rollback would repair nothing (one unreadable record
    /// would roll the whole cluster back again and again, and stop it once other traffic paused).
    /// </summary>
    private void LookUp(string key, int attempt)
    {
        _generation.Call(() => _store.ReadCommittedAsync(ResultRecord.KeyOf(key)), Mailbox, record =>
        {
            if (_failed || !_lookingUp.Remove(key, out var requests)) return;
            if (record is not null)
            {
                foreach (var r in requests)
                {
                    WorkflowResult stored;
                    try
                    {
                        stored = ResultRecord.Decode(record, key, r.Workflow, r.Args, out bool sameRequest);
                        if (sameRequest) _counters.Deduplicate(); // a key reused for another request is refused, not deduplicated
                    }
                    catch (FormatException e) { stored = new WorkflowResult(WorkflowStatus.Failed, -1, e.Message, [], r.Workflow); }
                    Answer(stored, r);
                }
                return;
            }
            // The first request that gets stamped runs; the rest attach to it. One that fails before it is
            // stamped (a key selector throws) was answered and never ran, so it cannot carry the others.
            int first = 0;
            while (first < requests.Count && !Stamp(requests[first])) first++;
            for (int i = first + 1; i < requests.Count; i++) Attach(requests[first], requests[i]);
        }, e =>
        {
            if (_failed) return;
            if (attempt >= _options.RecoveryAttempts)
            {
                if (!_lookingUp.Remove(key, out var waiting)) return;
                string reason = $"it did not run: the result record of idempotency key '{key}' could not be read from the {_store.Name} store ({attempt + 1} attempts): {e.Message}; a retry with the same key is safe";
                foreach (var r in waiting) Answer(new WorkflowResult(WorkflowStatus.Failed, -1, reason, [], r.Workflow), r);
                return;
            }
            Mailbox.PostAfter(_options.BackoffAfter(attempt + 1), () =>
            {
                if (!_failed && _lookingUp.ContainsKey(key)) LookUp(key, attempt + 1);
            });
        });
    }

    /// <summary>A retry of a request still in flight: it gets the first one's result, and gives its queue place back at once.</summary>
    private void Attach(Request first, Request retry)
    {
        if (!ResultRecord.SameInput(first, retry))
        {
            Answer(new WorkflowResult(WorkflowStatus.Failed, -1,
                $"idempotency key '{retry.IdempotencyKey}' is in use by {first.Workflow.Name}({first.Args}), not {retry.Workflow.Name}({retry.Args}); a key names one request", [], retry.Workflow), retry);
            return;
        }
        _counters.Deduplicate();
        if (retry.HoldsPermit) _admission.Release();
        var callback = retry.OnDone;
        first.OnDone += callback;
    }

    /// <summary>Stamps the request into the open batch; false when its keys do not resolve (it is answered Failed and never runs).</summary>
    private bool Stamp(Request request)
    {
        if (!TryResolve(request, out string? error))
        {
            Answer(new WorkflowResult(WorkflowStatus.Failed, -1, error, [], request.Workflow), request);
            return false;
        }
        if (request.IdempotencyKey is { } key) _byKey[key] = request;
        // A plan (and the batch's logged input) must fit in one frame: a request that would take the open batch's
        // parameters past that starts the next batch. Alone, each fits: submission refused any that does not.
        long parameterBytes = request.Args.Count == 0 ? 0 : ArgsBounds.EncodedBytes(request.Args);
        if (_open is { } full && full.All.Count > 0 && full.ParameterBytes + parameterBytes > _maxParameterBytes) Close(full);
        var batch = _open ??= StartBatch();
        batch.ParameterBytes += parameterBytes;
        request.Ts = _nextTs++;
        request.Batch = batch.Id;
        if (batch.All.Count == 0) batch.FirstTs = request.Ts;

        int accessCount = request.Workflow.AccessCount;
        Span<int> distinct = accessCount <= 64 ? stackalloc int[64] : new int[accessCount];
        int n = DistinctKeys(request, distinct, batch);
        request.Worker = _router.Route(distinct[..n]);
        batch.All.Add(request);
        batch.PerWorker[request.Worker].Add(request);
        if (batch.All.Count >= _options.MaxBatchSize) Close(batch);
        // Arrivals gather until the mailbox has taken what is queued with them (requests submitted together,
        // or the next requests a commit's answers bring), then the batch closes if the pipeline has room.
        QueueFlush();
        return true;
    }

    /// <summary>
    /// Calls <paramref name="answer"/> on the driver's mailbox with what the driver is waiting for: the open batch, the durable write in flight, and every
    /// batch in the pipeline with the workers it still waits for. A cluster that stopped answering says why here.
    /// </summary>
    public void Describe(Action<string> answer) => Mailbox.Post(() => answer(Describe()));

    private string Describe()
    {
        var parts = new List<string>();
        if (_failed) parts.Add("failed");
        parts.Add(_open is { } open ? $"open batch {open.Id} holds {open.All.Count} requests" : "no open batch");
        if (_writing is { } w)
            parts.Add($"writing {(w.Inputs.Length > 0 ? $"the input of batches {w.Inputs[0].Batch}–{w.Inputs[^1].Batch}" : "no input")}{(w.Commits ? $" and the commit record of {w.CommitFrom}–{w.CommitThrough}" : "")}");
        if (_preparing) parts.Add("writing idempotency records");
        if (_toLog.Count > 0) parts.Add($"{_toLog.Count} closed batches wait to be logged");
        foreach (var b in _inFlight)
        {
            var waiting = Enumerable.Range(0, b.ExecutedBy.Length).Where(i => !b.ExecutedBy[i]).ToList();
            string state = b.Ready ? "ready to commit" : !b.Planned ? "not yet planned"
                : waiting.Count == 0 ? "executed" : $"waits for worker {string.Join(", ", waiting)}";
            parts.Add($"batch {b.Id} ({b.Requests.Count} requests): {state}");
        }
        return string.Join("; ", parts);
    }

    /// <summary>
    /// Re-executes a batch from its logged input (rollback, recovery): the same requests, timestamps,
    /// routes and leaseholders, so deterministic bodies give the same results. The input is durable
    /// already, so the plans go out at once. Runs on this driver's mailbox before any new admission.
    /// </summary>
    public void Replay(BatchInput input, IReadOnlyList<Request> requests)
    {
        int workers = _options.Workers;
        var perWorker = Enumerable.Range(0, workers).Select(_ => new List<Request>()).ToArray();
        for (int i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            if (!TryResolve(request, out string? error))
                throw new InvalidOperationException($"batch {input.Batch}: a logged request no longer resolves its keys: {error}");
            request.Ts = input.Requests[i].Ts;
            request.Batch = input.Batch;
            request.Worker = input.Requests[i].Worker % workers;
            if (request.IdempotencyKey is { } key) _byKey[key] = request;
            perWorker[request.Worker].Add(request);
        }
        var leases = new LeaseEntry[input.Leases.Count];
        for (int i = 0; i < leases.Length; i++)
        {
            var l = input.Leases[i];
            leases[i] = _leases.Place(_intern(l.Key), l.Key, l.Holder % workers, l.Written);
        }
        _nextBatch = Math.Max(_nextBatch, input.Batch + 1);
        if (requests.Count > 0) _nextTs = Math.Max(_nextTs, input.Requests[^1].Ts + 1);
        var routed = Array.ConvertAll(perWorker, r => r.ToArray());
        _inFlight.Enqueue(new InFlightBatch(input.Batch, [.. requests], routed) { Planned = true });
        SendPlans(Plans(input.Batch, input.FirstTs, input.Time, routed, leases));
    }

    private OpenBatch StartBatch()
    {
        var batch = new OpenBatch(_nextBatch++, _options.Workers);
        long id = batch.Id;
        Mailbox.PostAfter(_options.MaxBatchDelay, () =>
        {
            // Only closes it if the pipeline has room (Flush's rule). Closing it while the pipeline is full would
            // not plan it any sooner: it would wait for a place like the open batch, and the arrivals after it
            // would go into further batches of one delay's worth each, admitted one per round; under a slow sync
            // that capped throughput at one delay's arrivals per sync instead of all of them.
            if (_open is not { } open || open.Id != id) return;
            Flush();
        });
        return batch;
    }

    /// <summary>Resolves every declared key from the parameters; a selector that throws fails the request before it is stamped.</summary>
    private bool TryResolve(Request request, out string? error)
    {
        var resolved = AccessResolver.Resolve(request.Workflow, request.Args, _intern, out error);
        if (resolved is null) return false;
        request.Accesses = resolved;
        return true;
    }

    /// <summary>The request's distinct keys (for routing), also noted as touched by the batch.</summary>
    private int DistinctKeys(Request request, Span<int> into, OpenBatch batch)
    {
        int n = 0;
        foreach (var accesses in request.Accesses)
            foreach (var access in accesses)
            {
                bool written = access.Mode == AccessMode.ReadWrite;
                Touch(batch, access.KeyId, written);
                if (into[..n].IndexOf(access.KeyId) < 0) into[n++] = access.KeyId;
            }
        return n;
    }

    private void Touch(OpenBatch batch, int keyId, bool written)
    {
        if (keyId >= _touchedIn.Length)
        {
            Array.Resize(ref _touchedIn, Math.Max(keyId + 1, _touchedIn.Length * 2));
            Array.Resize(ref _touchedAt, _touchedIn.Length);
        }
        if (_touchedIn[keyId] != batch.Id)
        {
            _touchedIn[keyId] = batch.Id;
            _touchedAt[keyId] = batch.Touched.Count;
            batch.Touched.Add((keyId, written));
        }
        else if (written && !batch.Touched[_touchedAt[keyId]].Written)
            batch.Touched[_touchedAt[keyId]] = (keyId, true);
    }

    /// <summary>Closes a batch: assigns its leases, prepares every worker's plan and its logged input, and starts decaying the statistics.</summary>
    private void Close(OpenBatch batch)
    {
        if (_failed) return;
        _open = null;
        var leases = new LeaseEntry[batch.Touched.Count];
        for (int i = 0; i < leases.Length; i++)
        {
            var (keyId, written) = batch.Touched[i];
            leases[i] = _leases.Assign(keyId, _keys[keyId], written);
        }
        Statistics.AdvanceEpoch();
        var time = _clock.Next();
        var routed = Array.ConvertAll(batch.PerWorker, r => r.ToArray());
        _inFlight.Enqueue(new InFlightBatch(batch.Id, batch.All, routed) { ClosedAt = _scheduler.Time.GetTimestamp(), Timed = true });
        var plans = Plans(batch.Id, batch.FirstTs, time, routed, leases);
        _toLog.Enqueue(new PendingInput(batch.Id, BatchInputCodec.Encode(batch.Id, batch.FirstTs, time, batch.All, leases), plans));
    }

    // A Flush is queued at the mailbox's tail: the requests posted before it join the batch it may close.
    private bool _flushQueued;

    /// <summary>Runs <see cref="Flush"/> once the mailbox has taken what is queued before it, so those requests join the batch.</summary>
    private void QueueFlush()
    {
        if (_flushQueued) return;
        _flushQueued = true;
        Mailbox.Post(() =>
        {
            _flushQueued = false;
            Flush();
        });
    }

    /// <summary>
    /// Starts the next durable write if none is in flight: it closes the open batch when the pipeline has room,
    /// then logs every closed batch's input and writes the commit records of the executed batches at the head
    /// of the pipeline, in one store call off this mailbox. §7's decision holds: a batch's input is durable
    /// before its plans go out, so any failure is repaired by re-executing it; inputs and commit records reach
    /// the store in batch order.
    /// </summary>
    private void Flush()
    {
        if (_failed || _writing is not null) return;
        int ready = 0;
        long commitFrom = 0;
        foreach (var b in _inFlight)
        {
            if (!b.Ready) break;
            if (ready == 0) commitFrom = b.Id;
            else if (b.Id != commitFrom + ready) throw new InvalidOperationException($"batch {b.Id} is in flight after {commitFrom + ready - 1}: batches must be consecutive");
            ready++;
        }
        // The pipeline holds the batches logged and executing; those this write commits leave it with the
        // write, so their places count as free. Closed batches wait in _toLog for a place (a batch closed at
        // its size or its delay bound may find none), so the workers never run more than the depth at once
        // and no write grows with a backlog.
        int executing = _inFlight.Count - ready - _toLog.Count;
        int room = _options.PipelineDepth - executing;
        if (_open is { } open && room > _toLog.Count) Close(open);
        int logging = Math.Min(Math.Max(room, 0), _toLog.Count);
        // Inputs alone wait while the pipeline's last place is taken: a commit record is coming, and one sync
        // carries both. With a depth of 3 or more, a batch may still be logged alone while another executes, so
        // a sync overlaps execution; at depth 2, syncs and execution take turns.
        if (ready == 0 && (logging == 0 || executing >= Math.Max(1, _options.PipelineDepth - 1))) return;
        var inputs = new PendingInput[logging];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = _toLog.Dequeue();
        var write = _writing = new LogWrite(inputs, commitFrom, ready == 0 ? commitFrom - 1 : commitFrom + ready - 1);
        var entries = Array.ConvertAll(inputs, i => new KeyValuePair<long, ReadOnlyMemory<byte>>(i.Batch, i.Input));
        // The sync runs on the log mailbox, so this one goes on admitting and planning while it waits.
        _logMailbox.Post(() => _generation.Call(() => _store.WriteLogAsync(entries, write.CommitFrom, write.CommitThrough, _epoch), _logMailbox,
            () => Mailbox.Post(() => OnWritten(write)),
            e => Mailbox.Post(() => Fail(WriteFailure(write, e), commitInDoubt: write.Commits ? write.CommitThrough : null, fenced: e is StoreFencedException))));
    }

    private string WriteFailure(LogWrite write, Exception e)
    {
        string batches = write.Inputs.Length switch
        {
            0 => "",
            1 => $"batch {write.Inputs[0].Batch}",
            _ => $"batches {write.Inputs[0].Batch}–{write.Inputs[^1].Batch}",
        };
        string store = $"the {_store.Name} store: {e.Message}";
        return (write.Inputs.Length, write.Commits) switch
        {
            (0, _) => $"the commit record of batch {write.CommitThrough} could not be written to {store}",
            (_, false) => $"the input of {batches} could not be logged to {store}",
            _ => $"the commit record of batch {write.CommitThrough} could not be written, nor the input of {batches} logged, to {store}",
        };
    }

    /// <summary>The write is durable: its batches' plans go out, its committed batches are answered, and the next write starts.</summary>
    private void OnWritten(LogWrite write)
    {
        if (_failed) return;
        _writing = null;
        long now = _scheduler.Time.GetTimestamp();
        foreach (var input in write.Inputs)
        {
            foreach (var b in _inFlight)
                if (b.Id == input.Batch) (b.PlannedAt, b.Planned) = (now, true);
            SendPlans(input.Plans);
        }
        for (long id = write.CommitFrom; id <= write.CommitThrough; id++)
        {
            var batch = _inFlight.Dequeue();
            if (batch.Id != id) throw new InvalidOperationException($"committed batch {id}, but batch {batch.Id} heads the pipeline");
            LastCommitted = id;
            _counters.BatchCommitted();
            // A replayed batch was never closed here: it has no phases to report.
            if (batch.Timed)
            {
                var time = _scheduler.Time;
                _counters.Phases.Add(time.GetElapsedTime(batch.ClosedAt, batch.PlannedAt), time.GetElapsedTime(batch.PlannedAt, batch.ExecutedAt),
                    time.GetElapsedTime(batch.ExecutedAt, now));
            }
            foreach (var request in batch.Requests) Answer(request.ToResult(), request);
        }
        // After the requests the answers bring: a batch of them goes out with the next commit record, one sync for both.
        QueueFlush();
    }

    /// <summary>Every worker's plan for a batch: the workflows routed to it, as data, and the whole lease table.</summary>
    private static PlanMsg[] Plans(long batch, long firstTs, DateTimeOffset time, Request[][] routed, LeaseEntry[] leases) =>
        Array.ConvertAll(routed, requests => new PlanMsg(batch, firstTs, time,
            Array.ConvertAll(requests, r => new PlannedWorkflow(r.Ts, r.Workflow.Name, r.Args, r.Accesses)), leases));

    private void SendPlans(PlanMsg[] plans)
    {
        for (int w = 0; w < plans.Length; w++) _endpoint.Send(NodeId.Worker(w), plans[w]);
    }

    /// <summary>A worker executed its part of a batch: its workflows' outcomes, in the order of its plan.</summary>
    private void OnWorkerExecuted(ExecutedMsg executed)
    {
        if (_failed) return;
        int worker = executed.From.Index;
        foreach (var b in _inFlight)
            if (b.Id == executed.Batch)
            {
                if (executed.From.Role != NodeRole.Worker || worker >= _options.Workers)
                    throw new InvalidOperationException($"batch {b.Id}: an executed message from {executed.From}, which is not a worker of this cluster");
                if (b.ExecutedBy[worker]) throw new InvalidOperationException($"batch {b.Id} executed more than once by worker {worker}");
                var routed = b.PerWorker[worker];
                if (executed.Outcomes.Length != routed.Length)
                    throw new InvalidOperationException($"batch {b.Id}: worker {worker} reported {executed.Outcomes.Length} outcomes for {routed.Length} workflows");
                for (int i = 0; i < routed.Length; i++)
                {
                    if (executed.Outcomes[i].Ts != routed[i].Ts)
                        throw new InvalidOperationException($"batch {b.Id}: worker {worker} reported workflow {executed.Outcomes[i].Ts} where {routed[i]} was planned");
                    routed[i].Outcome = executed.Outcomes[i];
                }
                b.ExecutedBy[worker] = true;
                if (++b.Executed == _options.Workers) b.ExecutedAt = _scheduler.Time.GetTimestamp();
                break;
            }
        TryCommit();
    }

    private readonly Queue<PendingInput> _toLog = new();

    /// <summary>
    /// Marks executed batches ready to commit, in batch order: a batch whose requests carry idempotency keys
    /// first writes their result records, which commit with it. Callers hear back only after the commit record.
    /// </summary>
    private void TryCommit()
    {
        if (_failed || _preparing) return;
        InFlightBatch? needsRecords = null;
        List<KeyValuePair<StateKey, byte[]?>>? results = null;
        foreach (var b in _inFlight)
        {
            if (b.Ready) continue;
            if (b.Executed < _options.Workers) break;
            results = ResultRecords(b);
            if (results.Count > 0)
            {
                needsRecords = b;
                break;
            }
            b.Ready = true;
        }
        if (needsRecords is null)
        {
            Flush();
            return;
        }
        _preparing = true;
        _generation.Call(() => _store.WriteVersionsAsync(needsRecords.Id, results!), Mailbox, () =>
        {
            _preparing = false;
            needsRecords.Ready = true;
            TryCommit();
        }, e => Fail($"the idempotency records of batch {needsRecords.Id} could not be written to the {_store.Name} store: {e.Message}", commitInDoubt: null));
    }

    /// <summary>The results of the batch's requests that carry an idempotency key; they commit with the batch.</summary>
    private static List<KeyValuePair<StateKey, byte[]?>> ResultRecords(InFlightBatch batch)
    {
        List<KeyValuePair<StateKey, byte[]?>>? records = null;
        foreach (var request in batch.Requests)
            if (request.IdempotencyKey is { } key)
                (records ??= []).Add(new(ResultRecord.KeyOf(key), ResultRecord.Encode(request, request.ToResult())));
        return records ?? [];
    }

    /// <summary>
    /// The store failed under this incarnation (§7: b cannot commit). Nothing more of it reaches the
    /// store or a caller; every request it holds goes to the cluster, which rolls back to the last
    /// commit and re-executes. Requests admitted from now on are passed on to the next incarnation.
    /// </summary>
    public void Fail(string reason, long? commitInDoubt, bool fenced = false)
    {
        if (_failed) return;
        _failed = true;
        var maybeLogged = new List<Request>();
        var notLogged = new List<Request>();
        // Plans go out only after their input is logged, and inputs are logged in order: every batch before
        // the first one still waiting for the log is logged, or in the write in flight, so it may be.
        long firstUnlogged = _toLog.TryPeek(out var head) ? head.Batch : long.MaxValue;
        foreach (var batch in _inFlight) (batch.Id < firstUnlogged ? maybeLogged : notLogged).AddRange(batch.Requests);
        if (_open is { } open) notLogged.AddRange(open.All);
        foreach (var (_, waiting) in _lookingUp) notLogged.AddRange(waiting);
        _inFlight.Clear();
        _toLog.Clear();
        _lookingUp.Clear();
        _open = null;
        _onFailure(new Interruption(reason, commitInDoubt, maybeLogged, notLogged, _nextTs, LastCommitted, fenced));
    }

    /// <summary>A request of a batch that committed just before the previous incarnation failed.</summary>
    public void AnswerRecovered(Request request, WorkflowResult result) => Answer(result, request);

    private void Answer(WorkflowResult result, Request request)
    {
        if (request.IdempotencyKey is { } key && _byKey.TryGetValue(key, out var owner) && owner == request) _byKey.Remove(key);
        if (request.HoldsPermit) _admission.Release();
        _counters.Callbacks.Deliver(request.OnDone, result);
    }
}
