namespace Leasehold.Runtime.Serializable;

/// <summary>
/// Turns a workflow's declared accesses into concrete keys for one request: each function's distinct
/// keys, a key declared twice taking the stronger mode. The driver and the serial reference share it.
/// </summary>
internal static class AccessResolver
{
    public static ResolvedAccess[][]? Resolve(WorkflowDefinition workflow, Args args, Func<StateKey, int> intern, out string? error)
    {
        var functions = workflow.Functions;
        var resolved = new ResolvedAccess[functions.Count][];
        for (int f = 0; f < functions.Count; f++)
        {
            var accesses = functions[f].Accesses;
            var mine = new ResolvedAccess[accesses.Count];
            int n = 0;
            for (int a = 0; a < accesses.Count; a++)
            {
                var access = accesses[a];
                string key;
                try
                {
                    key = access.KeySelector(args) ?? throw new InvalidOperationException("the selector returned null");
                }
                catch (Exception e)
                {
                    error = $"workflow '{workflow.Name}': the key selector of function '{functions[f].Name}' on table '{access.Table}' failed: {e.Message}";
                    return null;
                }
                var stateKey = new StateKey(access.Table, key);
                int id = intern(stateKey);
                int existing = -1;
                for (int i = 0; i < n; i++)
                    if (mine[i].KeyId == id) existing = i;
                if (existing < 0) mine[n++] = new ResolvedAccess(id, stateKey, access.Mode);
                else if (access.Mode == AccessMode.ReadWrite) mine[existing] = mine[existing] with { Mode = AccessMode.ReadWrite };
            }
            resolved[f] = n == mine.Length ? mine : mine[..n];
        }
        error = null;
        return resolved;
    }
}
