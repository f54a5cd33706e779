using Leasehold.Runtime.Serializable;

namespace Leasehold.Runtime.Hosting;

/// <summary>Stopping the cluster (the supervisor drains and retires it) and, when the cluster owns it, disposing the store.</summary>
public sealed partial class SerializableCluster
{
    private readonly bool _ownsStore;
    private Task? _stopped;

    /// <summary>
    /// Stops the cluster; idempotent (every call returns the same task). Requests submitted from now on are
    /// Rejected; those already admitted finish normally, unless they are still running after
    /// <see cref="ClusterOptions.StopDrainTimeout"/>: then each is answered Unknown when its
    /// batch's input may be in the log (the next start re-executes it; an idempotency key tells its
    /// result) or Failed when it certainly did not run. Completes once every caller is answered and no
    /// store call of the cluster is still running; then the store is disposed if the cluster owns it.
    /// In the deterministic mode, run the scheduler until the task completes.
    /// </summary>
    public Task StopAsync()
    {
        lock (_gate) return _stopped ??= _supervisor.StopAsync(() => Outstanding, _fleet is null ? StoreRelease() : ShutDownWorkersThenRelease);
    }

    private Func<ValueTask>? StoreRelease() => _ownsStore ? Store.DisposeAsync : null;

    /// <summary>Once the last incarnation is quiet: the worker processes retire and exit, then the store is released.</summary>
    private ValueTask ShutDownWorkersThenRelease()
    {
        _fleet!.Shutdown(Serializable.Recovery.IncarnationSupervisor.StoppedReason);
        return StoreRelease()?.Invoke() ?? default;
    }

    /// <summary>As <see cref="StopAsync"/>.</summary>
    public ValueTask DisposeAsync() => new(StopAsync());
}
