using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Storage;

namespace Leasehold.Runtime.Serializable;

/// <summary>
/// One incarnation of the driver and its workers. When a batch cannot commit, the cluster supersedes
/// the whole incarnation and builds a fresh one from the store (§7: rollback). Everything the old one
/// still has queued — bodies, messages, store callbacks — may run, but it reaches neither the store nor
/// the callers: every store call goes through <see cref="Call"/>, which refuses once superseded, and
/// recovery waits for the calls already started to finish before it discards their versions.
/// </summary>
internal sealed class Generation(int number)
{
    private readonly object _gate = new();
    private bool _superseded;
    private int _storeCalls;
    private Action? _whenQuiet;

    public int Number { get; } = number;

    /// <summary>
    /// Stops this incarnation; <paramref name="whenQuiet"/> runs once no store call it started is still
    /// running. A later call (a stop after a failure) only adds its own action: each runs once.
    /// </summary>
    public void Supersede(Action whenQuiet)
    {
        lock (_gate)
        {
            _superseded = true;
            if (_storeCalls > 0)
            {
                _whenQuiet += whenQuiet;
                return;
            }
        }
        whenQuiet();
    }

    /// <summary>Runs a store call for this incarnation, continuing on <paramref name="mailbox"/>; nothing happens once superseded.</summary>
    public void Call(Func<ValueTask> call, Mailbox mailbox, Action onSuccess, Action<Exception> onFailure)
    {
        if (!Begin()) return;
        ValueTask task;
        try { task = call(); }
        catch (Exception e) { task = ValueTask.FromException(e); }
        if (task.IsCompletedSuccessfully) // the memory engine: no continuation to build
        {
            if (End()) onSuccess();
            return;
        }
        ThenEnd(task, mailbox, onSuccess, onFailure);
    }

    public void Call<T>(Func<ValueTask<T>> call, Mailbox mailbox, Action<T> onSuccess, Action<Exception> onFailure)
    {
        if (!Begin()) return;
        ValueTask<T> task;
        try { task = call(); }
        catch (Exception e) { task = ValueTask.FromException<T>(e); }
        if (task.IsCompletedSuccessfully)
        {
            T value = task.Result;
            if (End()) onSuccess(value);
            return;
        }
        ThenEnd(task, mailbox, onSuccess, onFailure);
    }

    // The continuations are built here, not in Call: there the compiler would allocate their closure on every call.
    private void ThenEnd(ValueTask task, Mailbox mailbox, Action onSuccess, Action<Exception> onFailure) =>
        AsyncBridge.Then(task, mailbox, () => { if (End()) onSuccess(); }, e => { if (End()) onFailure(e); });

    private void ThenEnd<T>(ValueTask<T> task, Mailbox mailbox, Action<T> onSuccess, Action<Exception> onFailure) =>
        AsyncBridge.Then(task, mailbox, v => { if (End()) onSuccess(v); }, e => { if (End()) onFailure(e); });

    private bool Begin()
    {
        lock (_gate)
        {
            if (_superseded) return false;
            _storeCalls++;
            return true;
        }
    }

    /// <summary>Ends a call; true when its continuation should still run (the incarnation is live).</summary>
    private bool End()
    {
        Action? quiet = null;
        bool live;
        lock (_gate)
        {
            _storeCalls--;
            live = !_superseded;
            if (!live && _storeCalls == 0)
            {
                quiet = _whenQuiet;
                _whenQuiet = null;
            }
        }
        quiet?.Invoke();
        return live;
    }
}
