using Leasehold.Baselines.Causal.FaasTcc;
using Leasehold.Baselines.Causal.HydroCache;
using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Persistence;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;

namespace Leasehold.Baselines;

/// <summary>
/// Builds the runtime of <see cref="CausalOptions.Protocol"/>: CausalMesh (or the eventual control) from
/// the runtime, a baseline from this project. It lives here because only this project knows every protocol.
/// </summary>
public static class CausalRuntime
{
    /// <param name="store">persistence (causalmesh only; null: none)</param>
    public static ICausalRuntime Create(CausalOptions options, IScheduler scheduler, Func<StateKey, byte[]?>? initial = null, CausalStore? store = null) => options.Protocol switch
    {
        CausalProtocol.CausalMesh or CausalProtocol.Eventual => new CausalCluster(options, scheduler, initial, store),
        CausalProtocol.HydroCon => new HydroCon(options, scheduler, initial),
        CausalProtocol.HydroOpt => new HydroOpt(options, scheduler, initial),
        CausalProtocol.FaasTcc => new FaasTccRuntime(options, scheduler, initial),
        _ => throw new NotSupportedException($"the {options.Protocol} protocol is not built"),
    };
}
