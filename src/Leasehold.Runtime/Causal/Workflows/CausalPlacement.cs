using Leasehold.Runtime.Causal;

namespace Leasehold.Runtime.Causal.Workflows;

/// <summary>Where a causal workflow's functions run: the invocation's placement, checked, or one drawn at random per function (so the workflow roams).</summary>
internal static class CausalPlacement
{
    /// <summary>The server of each function; null, with <paramref name="problem"/> saying why, when the given placement is malformed.</summary>
    public static int[]? Of(CausalInvocation invocation, int functions, int servers, Random random, out string? problem)
    {
        problem = null;
        if (invocation.Placement is { } caller)
        {
            // Copied first, then checked: the caller's array stays its own, and editing it later must not move a
            // running workflow's functions (nor slip past the check).
            int[] given = [.. caller];
            if (given.Length == functions && given.All(s => s >= 0 && s < servers)) return given;
            problem = $"a placement names one server in 0..{servers - 1} per function ({functions}), not [{string.Join(",", given)}]";
            return null;
        }
        var placement = new int[functions];
        lock (random)
            for (int f = 0; f < functions; f++) placement[f] = random.Next(servers);
        return placement;
    }
}
