using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable.Worker;
using Leasehold.Runtime.Storage;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Serializable.Driver;

/// <summary>
/// The driver (§2–§3, §7): admits requests with backpressure, stamps strictly increasing timestamps,
/// routes each whole workflow to one worker, cuts batches by size or age, assigns leases per batch,
/// sends plans while earlier batches still execute, commits batches in order, and only then answers.
/// </summary>
internal sealed class ClusterDriver
{
    private readonly ClusterOptions _options;
    private readonly IScheduler _scheduler;
    private readonly Network _network;
    private readonly IStateStore _store;
    private readonly ClusterCounters _counters;
    private readonly KeyDirectory _keys = new();
    private readonly Func<StateKey, int> _intern;
    private readonly Router _router;
    private readonly LeaseTable _leases;
    private readonly Queue<InFlightBatch> _inFlight = new();
    private ClusterWorker[] _workers = [];
    private readonly SemaphoreSlim _admission;
    private long _nextTs = 1;
    private long _nextBatch = 1;
    private OpenBatch? _open;
    private bool _committing;
    private volatile string? _halted;
    private long[] _touchedIn = new long[1024];
    private int[] _touchedAt = new int[1024];

    private sealed class OpenBatch(long id, int workers)
    {
        public readonly long Id = id;
        public long FirstTs;
        public readonly List<Request> All = [];
        public readonly List<Request>[] PerWorker = Enumerable.Range(0, workers).Select(_ => new List<Request>()).ToArray();
        public readonly List<(int KeyId, bool Written)> Touched = [];
    }

    private sealed class InFlightBatch(long id, List<Request> requests)
    {
        public readonly long Id = id;
        public readonly List<Request> Requests = requests;
        public int Executed;
    }

    public ClusterDriver(ClusterOptions options, IScheduler scheduler, Network network, IStateStore store, ClusterCounters counters)
    {
        _options = options;
        _scheduler = scheduler;
        _network = network;
        _store = store;
        _counters = counters;
        Mailbox = scheduler.CreateMailbox("driver");
        _intern = _keys.Intern;
        Statistics = new AccessStatistics(options.Workers, options.Decay);
        _router = new Router(Statistics, options.Routing, options.AffinityWeight, options.LoadWeight);
        _leases = new LeaseTable(Statistics, options.LeaseHysteresis);
        _admission = new SemaphoreSlim(options.MaxOutstanding, options.MaxOutstanding);
    }

    public Mailbox Mailbox { get; }
    public AccessStatistics Statistics { get; }
    /// <summary>Admitted requests not yet answered.</summary>
    public int Outstanding => _options.MaxOutstanding - _admission.CurrentCount;
    public long LastCommitted { get; private set; }
    public int BatchesInFlight => _inFlight.Count;

    public void Connect(ClusterWorker[] workers) => _workers = workers;

    /// <summary>Admits a request unless the bounded queue is full; thread-safe. The callback runs after commit.</summary>
    public bool TryAdmit(WorkflowDefinition workflow, Args args, Action<WorkflowResult> onDone, out string? refusal)
    {
        if ((refusal = Stopped()) is not null) return false;
        if (!_admission.Wait(0))
        {
            refusal = $"admission queue full ({_options.MaxOutstanding} requests outstanding)";
            return false;
        }
        Enqueue(workflow, args, onDone);
        return true;
    }

    /// <summary>Admits a request, waiting while the bounded queue is full.</summary>
    public async ValueTask<string?> AdmitAsync(WorkflowDefinition workflow, Args args, Action<WorkflowResult> onDone, CancellationToken cancellation)
    {
        if (Stopped() is { } refusal) return refusal;
        await _admission.WaitAsync(cancellation).ConfigureAwait(false);
        Enqueue(workflow, args, onDone);
        return null;
    }

    private string? Stopped() =>
        _halted is { } halted ? $"the cluster stopped: {halted}"
        : _scheduler.Fault is { } fault ? $"the cluster stopped after an internal error: {fault.Message}" : null;

    private void Enqueue(WorkflowDefinition workflow, Args args, Action<WorkflowResult> onDone)
    {
        var request = new Request(workflow, args, onDone, _scheduler.Time.GetTimestamp());
        Mailbox.Post(() => Admit(request));
    }

    private void Admit(Request request)
    {
        if (_halted is { } halted)
        {
            Answer(WorkflowResult.Rejected($"the cluster stopped: {halted}"), request);
            return;
        }
        if (!TryResolve(request, out string? error))
        {
            Answer(new WorkflowResult(WorkflowStatus.Failed, -1, error, [], request.Workflow), request);
            return;
        }
        var batch = _open ??= StartBatch();
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
    }

    private OpenBatch StartBatch()
    {
        var batch = new OpenBatch(_nextBatch++, _options.Workers);
        long id = batch.Id;
        Mailbox.PostAfter(_options.MaxBatchDelay, () =>
        {
            if (_open is { } open && open.Id == id) Close(open);
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

    /// <summary>Closes a batch: assigns its leases, sends every worker its plan, and starts decaying the statistics.</summary>
    private void Close(OpenBatch batch)
    {
        if (_halted is not null) return;
        _open = null;
        var leases = new LeaseEntry[batch.Touched.Count];
        for (int i = 0; i < leases.Length; i++)
        {
            var (keyId, written) = batch.Touched[i];
            leases[i] = _leases.Assign(keyId, _keys[keyId], written);
        }
        Statistics.AdvanceEpoch();
        var time = _scheduler.Time.GetUtcNow();
        _inFlight.Enqueue(new InFlightBatch(batch.Id, batch.All));
        var plans = new BatchPlan[_workers.Length];
        for (int w = 0; w < _workers.Length; w++) plans[w] = new BatchPlan(batch.Id, batch.FirstTs, time, [.. batch.PerWorker[w]], leases);
        _toLog.Enqueue((batch.Id, BatchInputCodec.Encode(batch.Id, batch.FirstTs, time, batch.All, leases), plans));
        LogNext();
    }

    /// <summary>
    /// §7's decision: a batch's input is durable before it executes, so any failure is repaired by
    /// re-executing it. Inputs are logged one at a time, in batch order, and each batch's plans go out
    /// once its own input is in the log; batch b+1 is still planned and logged while b executes.
    /// </summary>
    private void LogNext()
    {
        if (_halted is not null || _logging || !_toLog.TryPeek(out var next)) return;
        _logging = true;
        AsyncBridge.Then(_store.AppendBatchInputAsync(next.Batch, next.Input), Mailbox, () =>
        {
            _toLog.Dequeue();
            _logging = false;
            if (_halted is not null) return;
            for (int w = 0; w < _workers.Length; w++)
            {
                var plan = next.Plans[w];
                var worker = _workers[w];
                _network.Send(Mailbox, worker.Mailbox, () => worker.OnPlan(plan));
            }
            LogNext();
        }, e => Halt($"the input of batch {next.Batch} could not be logged to the {_store.Name} store: {e.Message}", unknownBatch: null));
    }

    public void OnWorkerExecuted(long batchId, int worker)
    {
        foreach (var b in _inFlight)
            if (b.Id == batchId)
            {
                if (++b.Executed > _workers.Length) throw new InvalidOperationException($"batch {batchId} executed more than once by worker {worker}");
                break;
            }
        TryCommit();
    }

    /// <summary>Writes commit records strictly in batch order, one at a time; callers hear back only after theirs.</summary>
    private readonly Queue<(long Batch, byte[] Input, BatchPlan[] Plans)> _toLog = new();
    private bool _logging;

    private void TryCommit()
    {
        if (_halted is not null || _committing || !_inFlight.TryPeek(out var next) || next.Executed < _workers.Length) return;
        _committing = true;
        AsyncBridge.Then(_store.CommitAsync(next.Id), Mailbox, () =>
        {
            _inFlight.Dequeue();
            LastCommitted = next.Id;
            _counters.BatchCommitted();
            foreach (var request in next.Requests) Answer(request.ToResult(), request);
            _committing = false;
            TryCommit();
        }, e => Halt($"the commit record of batch {next.Id} could not be written to the {_store.Name} store: {e.Message}", unknownBatch: next.Id));
    }

    /// <summary>
    /// The store failed: stop admitting and answer everything in flight. The batch whose commit record was
    /// being written may have committed (Unknown); every other batch in flight certainly did not (Failed).
    /// Restarting from the last commit is the durability work's recovery path.
    /// </summary>
    public void Halt(string reason, long? unknownBatch)
    {
        if (_halted is not null) return;
        _halted = reason;
        foreach (var batch in _inFlight)
            foreach (var request in batch.Requests)
            {
                bool unknown = batch.Id == unknownBatch;
                Answer(new WorkflowResult(unknown ? WorkflowStatus.Unknown : WorkflowStatus.Failed, request.Ts,
                    unknown ? $"the outcome is unknown: {reason}" : $"batch {batch.Id} did not commit: {reason}", [], request.Workflow), request);
            }
        _inFlight.Clear();
        if (_open is { } open)
        {
            _open = null;
            foreach (var request in open.All)
                Answer(new WorkflowResult(WorkflowStatus.Failed, request.Ts, $"batch {open.Id} did not run: {reason}", [], request.Workflow), request);
        }
    }

    private void Answer(WorkflowResult result, Request request)
    {
        _admission.Release();
        request.OnDone(result);
    }
}
