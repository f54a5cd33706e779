namespace Leasehold.Runtime.Serializable.Worker;

/// <summary>
/// Running operations: dispatch to executors once every key is acquired and every parent finished,
/// apply the outcome, release keys, and decide the workflow — committed when every function finished,
/// aborted or failed as soon as one did not, in which case nothing of it takes effect.
/// </summary>
internal sealed partial class ClusterWorker
{
    /// <summary>The protocol gave the operation one of its keys' values.</summary>
    public void AcquiredKey(Operation op)
    {
        // Only the last key can make the operation runnable: the protocol is asked once per operation, not per key.
        if (--op.KeysToAcquire > 0) return;
        TryDispatch(op);
    }

    /// <summary>Runs the operation if it is waiting, its parents are done and it holds every key's value.</summary>
    public void TryDispatch(Operation op)
    {
        if (op.State != OperationState.Waiting || op.ParentsRemaining > 0) return;
        if (!_protocol.PrepareDispatch(op)) return;
        if (op.KeysToAcquire > 0) return;
        op.State = OperationState.Running;
        _running.Add(op);
        ArmWatchdog();
        Start(op, PickExecutor());
    }

    /// <summary>
    /// Posts the body to an executor. The executor that claims the operation first (StartedAt from 0)
    /// runs it; a copy left behind on an abandoned executor finds it claimed and only gives back its slot.
    /// </summary>
    private void Start(Operation op, Executor executor)
    {
        executor.Queued++;
        op.RunningOn = executor;
        var run = new BodyRun(this, op, executor, _batches[op.Batch].Plan!.Time);
        executor.Mailbox.Post(BodyRun.OnExecutor, run);
    }

    /// <summary>
    /// One operation's trip to an executor and back: one object, posted to the executor and then to the
    /// worker with static handlers, instead of a closure and a delegate for each leg.
    /// </summary>
    private sealed class BodyRun(ClusterWorker worker, Operation op, Executor executor, DateTimeOffset batchTime)
    {
        public static readonly Action<object> OnExecutor = static run => ((BodyRun)run).Execute();
        private static readonly Action<object> OnWorker = static run => ((BodyRun)run).Returned();
        private static readonly Action<object> OnWorkerUnclaimed = static run => ((BodyRun)run).Unclaimed();
        private FunctionOutcome _outcome;

        private void Execute()
        {
            var time = worker.Scheduler.Time;
            if (Interlocked.CompareExchange(ref op.StartedAt, Math.Max(1, time.GetTimestamp()), 0) != 0)
            {
                worker.Mailbox.Post(OnWorkerUnclaimed, this);
                return;
            }
            var run = op.Run;
            var context = new OperationContext(run.Workflow, op.Function, run.Args, run.Ts, batchTime,
                op.Accesses, op.Values, run.Outputs, worker._options.MaxValueBytes);
            _outcome = FunctionRunner.Run(context, op.Function, time, worker._options.FunctionTimeLimit);
            Volatile.Write(ref op.Returned, true);
            worker.Mailbox.Post(OnWorker, this);
        }

        private void Returned() => worker.OnBodyReturned(op, executor, _outcome);

        /// <summary>A copy left behind on an abandoned executor: another executor ran the body; give back the slot.</summary>
        private void Unclaimed() => executor.Queued--;
    }

    /// <summary>The executor with the least queued work, ties to the lowest index.</summary>
    private Executor PickExecutor()
    {
        var best = _executors[0];
        for (int i = 1; i < _executors.Length; i++)
            if (_executors[i].Queued < best.Queued) best = _executors[i];
        return best;
    }

    /// <summary>
    /// An executor is stuck in a body that overran its limit: a fresh executor takes its place, and the
    /// operations queued behind the stuck body that have not started move to the executors still working.
    /// </summary>
    private void ReplaceExecutor(Executor stuck)
    {
        int i = Array.IndexOf(_executors, stuck);
        if (i < 0) return; // replaced already
        _executors[i] = new Executor(Scheduler.CreateMailbox($"{stuck.Mailbox.Name}'"));
        var queuedBehind = _running.Where(op => op.RunningOn == stuck && Volatile.Read(ref op.StartedAt) == 0).ToList();
        queuedBehind.Sort(static (a, b) => a.CompareOrder(b.Ts, b.Position));
        foreach (var op in queuedBehind) Start(op, PickExecutor());
    }

    private void OnBodyReturned(Operation op, Executor executor, FunctionOutcome outcome)
    {
        executor.Queued--;
        if (op.TimedOut) return; // already failed by the watchdog; the late result changes nothing
        _running.Remove(op);
        OnOperationFinished(op, outcome);
    }

    private void ArmWatchdog()
    {
        if (_watchdogArmed) return;
        _watchdogArmed = true;
        var interval = TimeSpan.FromTicks(Math.Clamp(_options.FunctionTimeLimit.Ticks / 4, TimeSpan.TicksPerMillisecond, 100 * TimeSpan.TicksPerMillisecond));
        Mailbox.PostAfter(interval, Sweep);
    }

    /// <summary>
    /// Fails operations whose body has run past the limit without returning: the workflow ends with the
    /// cause named, its keys are released, and the engine does not wait for a body that may never end.
    /// A body that has returned is judged by its executor (<see cref="FunctionRunner"/>) on its own
    /// running time, whatever the time its notice then spends queued behind this worker's other work.
    /// </summary>
    private void Sweep()
    {
        _watchdogArmed = false;
        var time = Scheduler.Time;
        long now = time.GetTimestamp();
        List<Operation>? overdue = null;
        foreach (var op in _running)
        {
            long started = Volatile.Read(ref op.StartedAt);
            if (started != 0 && !Volatile.Read(ref op.Returned) && time.GetElapsedTime(started, now) > _options.FunctionTimeLimit) (overdue ??= []).Add(op);
        }
        if (overdue is not null)
        {
            overdue.Sort(static (a, b) => a.CompareOrder(b.Ts, b.Position));
            foreach (var op in overdue)
            {
                op.TimedOut = true;
                ReplaceExecutor(op.RunningOn!);
                _running.Remove(op);
                OnOperationFinished(op, new FunctionOutcome(WorkflowStatus.Failed, null, null,
                    $"function '{op.Function.Name}' ran past its time limit of {_options.FunctionTimeLimit.TotalMilliseconds:F0} ms and was abandoned"));
            }
        }
        if (_running.Count > 0) ArmWatchdog();
    }

    /// <summary>
    /// A body finished. If it failed, the workflow ends — but with the first failure in position order, as
    /// a serial run would report it: functions before the failing one still run (their writes held back),
    /// functions after it are cancelled, and the workflow is decided once nothing before it is pending.
    /// </summary>
    private void OnOperationFinished(Operation op, FunctionOutcome outcome)
    {
        var run = op.Run;
        op.State = OperationState.Finished;
        if (run.OutcomeKnown)
        {
            ReleaseAll(op, null); // the workflow is over: this body's writes are discarded
            return;
        }
        // Decide before releasing: the last release retires the run, which needs its outcome.
        if (!outcome.Succeeded)
        {
            if (run.PendingFailure is not { } earlier || op.Position < earlier.Position)
                run.PendingFailure = (op.Position, outcome.Status, outcome.Reason);
            CancelAfter(run, run.PendingFailure!.Value.Position);
            TryDecideFailure(run);
            ReleaseAll(op, null);
            return;
        }
        if (run.PendingFailure is { } failure && op.Position > failure.Position)
        {
            TryDecideFailure(run); // ran after a failure before it: cannot matter
            ReleaseAll(op, null);
            return;
        }
        run.Outputs[op.Position] = outcome.Output;
        if (op.Function.MayAbort) run.MayAbortRemaining--;
        if (--run.FunctionsRemaining == 0) run.Outcome = WorkflowStatus.Committed;
        foreach (int child in op.Function.Children)
        {
            var c = run.Operations[child];
            c.ParentsRemaining--;
            TryDispatch(c);
        }
        if (run.PendingFailure is not null)
        {
            // Runs only to learn whether a failure comes earlier; its writes are held back, or dropped once decided.
            TryDecideFailure(run);
            ReleaseAll(op, run.OutcomeKnown ? null : outcome.Writes);
            return;
        }
        ReleaseAll(op, outcome.Writes);
        if (run.Outcome == WorkflowStatus.Committed) ResolveOutcome(run);
    }

    private void TryDecideFailure(WorkflowRun run)
    {
        if (run.OutcomeKnown || run.PendingFailure is not { } failure) return;
        foreach (var op in run.Operations)
            if (op.Position < failure.Position && op.State is OperationState.Waiting or OperationState.Running) return;
        Decide(run, failure.Status, failure.Reason);
    }

    private void CancelAfter(WorkflowRun run, int position)
    {
        foreach (var op in run.Operations)
            if (op.Position > position) Cancel(op);
    }

    /// <summary>Applies an operation's writes (none if discarded) and releases every key it holds.</summary>
    private void ReleaseAll(Operation op, WriteSet? writes)
    {
        if (op.Accesses.Length == 0)
        {
            OperationRetired(op); // nothing to give back: a function with no declared state
            return;
        }
        _protocol.Release(op, writes);
    }

    /// <summary>The protocol gave back one of the operation's keys.</summary>
    public void KeyReleased(Operation op)
    {
        if (--op.KeysToRelease == 0) OperationRetired(op);
    }

    private void OperationRetired(Operation op)
    {
        var run = op.Run;
        if (--run.OperationsOutstanding == 0)
        {
            if (!run.OutcomeKnown) throw new InvalidOperationException($"worker {Id}: {run} retired every operation without an outcome");
            Retire(run.Batch);
            _protocol.OnRequestDone(run);
        }
    }

    /// <summary>Ends a workflow that will not commit: cancel what has not run, give back what is held, undo what is pending.</summary>
    private void Decide(WorkflowRun run, WorkflowStatus status, string? reason)
    {
        run.Outcome = status;
        run.Reason = run.ExposedBeforeOutcome
            ? $"{reason} — NOT ATOMIC: writes of functions that finished earlier were already visible and stay (write gating 'declared' exposes them once every MayAbort function has finished)"
            : reason;
        foreach (var op in run.Operations) Cancel(op);
        ResolveOutcome(run);
    }

    /// <summary>Cancels an operation that has not started: it gives back what it holds and is dropped from chains as it reaches their heads.</summary>
    private void Cancel(Operation op)
    {
        if (op.State != OperationState.Waiting) return;
        op.State = OperationState.Cancelled;
        if (op.Accesses.Length == 0)
        {
            OperationRetired(op);
            return;
        }
        _protocol.Cancel(op);
    }

    /// <summary>The workflow is decided: the protocol lifts, or undoes, what it held back for it.</summary>
    private void ResolveOutcome(WorkflowRun run) => _protocol.OnResolved(run, run.Outcome == WorkflowStatus.Committed);
}
