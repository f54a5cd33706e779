using Leasehold.Runtime.Scheduling;

namespace Leasehold.Runtime.Causal.Workflows;

/// <summary>
/// Stopping: no workflow is admitted after a stop, those in flight finish, and callers still waiting after the
/// drain timeout are answered Unknown. Every caller is answered exactly once.
/// </summary>
internal sealed partial class CausalWorkflowEngine
{
    private const string StoppedRefusal = "the cluster is stopped (StopAsync or DisposeAsync was called): it admits no new requests";
    private readonly Dictionary<long, (Action<CausalResult> Caller, SessionToken? Token)> _answerDue = [];
    private long _nextCall;
    private TaskCompletionSource? _stopped;

    /// <summary>
    /// Stops the cluster; idempotent. Workflows submitted from now on are Rejected. Those in flight finish
    /// normally; any still running after <paramref name="drainTimeout"/> (30 s unless given) is answered
    /// Unknown, since the writes of its finished functions may already be visible. Completes once every
    /// caller is answered. The store, if any, belongs to the caller, who disposes it after this.
    /// </summary>
    public Task StopAsync(TimeSpan? drainTimeout)
    {
        lock (_answerDue)
        {
            if (_stopped is not null) return _stopped.Task;
            _stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_answerDue.Count == 0)
            {
                _stopped.SetResult();
                return _stopped.Task;
            }
        }
        Scheduler.After(drainTimeout ?? TimeSpan.FromSeconds(30), () => _client.Post(EndInFlight));
        return _stopped.Task;
    }

    /// <summary>
    /// Refuses the request once stopping; otherwise makes <paramref name="onDone"/> answer at most once and count as in
    /// flight until then. A refusal or a stop's Unknown hands back the caller's own token, so a client that keeps
    /// <c>result.Token</c> never loses its session.
    /// </summary>
    private bool TryTrack(ref Action<CausalResult> onDone, SessionToken? callerToken)
    {
        var caller = onDone;
        long id;
        lock (_answerDue)
        {
            if (_stopped is null)
            {
                id = ++_nextCall;
                _answerDue.Add(id, (caller, callerToken));
                onDone = r =>
                {
                    if (Answered(id)) Callbacks.Deliver(caller, r);
                };
                return true;
            }
        }
        Callbacks.Deliver(caller, new CausalResult(WorkflowStatus.Rejected, -1, StoppedRefusal, [], callerToken));
        return false;
    }

    /// <summary>Every result reaches its caller through this, so a throwing callback is caught and counted.</summary>
    public ResultCallbacks Callbacks { get; } = new();

    private bool Answered(long id)
    {
        lock (_answerDue)
        {
            if (!_answerDue.Remove(id)) return false; // ended by a stop already
            if (_stopped is not null && _answerDue.Count == 0) _stopped.TrySetResult();
            return true;
        }
    }

    /// <summary>The drain timeout passed: every caller still waiting is told the outcome is unknown; a late result is dropped.</summary>
    private void EndInFlight()
    {
        List<(Action<CausalResult> Caller, SessionToken? Token)> waiting;
        lock (_answerDue)
        {
            waiting = [.. _answerDue.OrderBy(e => e.Key).Select(e => e.Value)];
            _answerDue.Clear();
        }
        foreach (var (caller, token) in waiting)
            Callbacks.Deliver(caller, new CausalResult(WorkflowStatus.Unknown, -1, "the cluster stopped before the workflow finished: the writes of its finished functions may be visible", [], token));
        lock (_answerDue) _stopped!.TrySetResult();
    }
}
