namespace Leasehold.Runtime.Causal;

/// <summary>
/// Which causal cluster a session token belongs to: an id and the cluster's size. A token names versions by
/// vector clocks of one cluster's servers; read against another cluster's caches — another deployment, or an
/// in-memory cluster restarted with its state gone — those clocks mean nothing there, and serving them breaks
/// the causal cut. So a cluster admits only its own tokens.
/// <para>
/// What counts as "the same cluster" follows where the state lives. With a store, the state survives a restart,
/// and so does the id: it is a record in the store, set by the first cluster that opens it. Without one, a
/// restart loses everything a token can refer to, so each start draws a new id.
/// </para>
/// </summary>
public readonly record struct ClusterIdentity(ulong Id, int Servers)
{
    private static long _instances;

    /// <summary>
    /// A new id (never 0). It needs to differ between starts, not to be secret: it mixes the cluster's seed, a
    /// count of the identities drawn in this process (two clusters of one process, or a restart within it) and
    /// the process id and clock of <paramref name="time"/> (a restarted process; in the deterministic mode the
    /// clock is virtual, so the seed still replays the same run). The id decides only which tokens are admitted.
    /// </summary>
    public static ulong Draw(int seed, TimeProvider time)
    {
        ulong h = Mix((ulong)(uint)seed);
        h = Mix(h ^ (ulong)Interlocked.Increment(ref _instances));
        h = Mix(h ^ (ulong)Environment.ProcessId);
        h = Mix(h ^ (ulong)time.GetUtcNow().UtcTicks);
        h = Mix(h ^ (ulong)time.GetTimestamp());
        return h == 0 ? 1 : h;
    }

    /// <summary>SplitMix64's finalizer: every input bit moves about half the output bits.</summary>
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    /// <summary>Why this cluster refuses <paramref name="token"/> (null: it is this cluster's).</summary>
    public string? Refuses(SessionToken token)
    {
        if (token.ClusterId != Id)
            return $"the session token belongs to another causal cluster (cluster {token.ClusterId:x16}, this is {Id:x16}): another deployment, " +
                   "or a cluster restarted without a store, whose state the token refers to is gone; start a new session (no token)";
        if (token.Servers != Servers)
            return $"the session token is for a cluster of {token.Servers} servers, this one has {Servers}; start a new session (no token)";
        return null;
    }

    public override string ToString() => $"{Id:x16}/{Servers}";
}
