namespace Leasehold.Runtime.Causal.Persistence;

/// <summary>The keys a causal function declares, which its server loads from the store before the body runs.</summary>
internal static class FunctionKeys
{
    /// <summary>
    /// Every concrete declared key (an any-key access has none), and the keys earlier attempts missed. A
    /// selector that throws is skipped: the body meets the same error and fails as it would without a store.
    /// </summary>
    public static List<StateKey> ToLoad(FunctionDefinition function, Args args, List<StateKey>? missed)
    {
        var keys = new List<StateKey>();
        foreach (var access in function.Accesses)
        {
            if (access.AnyKey) continue;
            try { keys.Add(new StateKey(access.Table, access.KeySelector(args))); }
            catch (Exception) { /* the body reports it */ }
        }
        if (missed is not null) keys.AddRange(missed);
        return keys;
    }

    /// <summary>A function that may read keys it learns while it runs: its reads can miss, so its writes are deferred.</summary>
    public static bool ReadsAnyKey(FunctionDefinition function)
    {
        foreach (var access in function.Accesses)
            if (access.AnyKey) return true;
        return false;
    }
}
