using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Persistence;
using Leasehold.Runtime.Storage;

namespace Leasehold.Cli.Bench.Causal;

/// <summary>The store of a causal bench run with a durability: opened fresh (a bench leaves a store holding data as it is), claimed.</summary>
internal static class CausalBenchStore
{
    public static async Task<(Stores.OpenedStore? Opened, CausalStore? Store)> OpenAsync(CausalBenchSettings settings, CancellationToken cancellation)
    {
        if (settings.Durability == CausalDurability.None) return (null, null);
        var opened = await Stores.StoreSpec.Parse(settings.Store).Spec!.OpenAsync("causal-bench");
        try
        {
            if (await opened.Store.LastCommittedAsync(cancellation) > 0)
                throw new StoreUnavailableException($"the {opened.Store.Name} store already holds committed batches; bench needs a fresh store (give a new path or schema, or none for a temporary one), and leaves this one as it is");
            return (opened, await CausalStore.OpenAsync(opened.Store, cancellation));
        }
        catch
        {
            await opened.DisposeAsync();
            throw;
        }
    }

    /// <summary>The virtual runner's store: the memory engine, whose calls complete synchronously, as the deterministic mode needs.</summary>
    public static CausalStore? OpenMemory(CausalBenchSettings settings)
    {
        if (settings.Durability == CausalDurability.None) return null;
        var opening = CausalStore.OpenAsync(new MemoryStateStore());
        if (!opening.IsCompleted) throw new InvalidOperationException("the memory store did not open synchronously");
        return opening.GetAwaiter().GetResult();
    }
}
