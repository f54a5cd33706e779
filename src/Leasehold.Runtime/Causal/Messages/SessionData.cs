namespace Leasehold.Runtime.Causal.Messages;

/// <summary>A key and the clock of the version depended on.</summary>
internal readonly record struct KeyClock(StateKey Key, VectorClock Clock);

/// <summary>A read-write transaction's buffered write: the value, and the function that wrote it (the later index wins at a fan-in).</summary>
internal readonly record struct PendingWrite(StateKey Key, byte[]? Value, int Function);

/// <summary>
/// A session as a message carries it: arrays of data, immutable, so one can go to several nodes and each rebuilds
/// its own <see cref="CausalSession"/> to mutate (<see cref="ToSession"/>). Entries keep their enumeration order, so a
/// run replays the same for a seed.
/// </summary>
internal sealed record SessionData(KeyClock[] Deps, KeyedVersion[] Local, VectorClock? Floor, VectorClock? Snapshot, PendingWrite[]? Pending, VectorClock? Written)
{
    public static SessionData Of(CausalSession session)
    {
        if (session.Baseline is not null) throw new InvalidOperationException("a baseline protocol's session does not travel in CausalMesh's messages");
        return new SessionData(
            [.. session.Deps.Select(d => new KeyClock(d.Key, d.Value))],
            [.. session.Local.Select(l => new KeyedVersion(l.Key, l.Value))],
            session.Floor, session.Snapshot,
            session.Pending is { } pending ? [.. pending.Select(p => new PendingWrite(p.Key, p.Value.Value, p.Value.Function))] : null,
            session.Written);
    }

    /// <summary>A new session of the receiver's own.</summary>
    public CausalSession ToSession()
    {
        var session = new CausalSession { Floor = Floor, Snapshot = Snapshot, Written = Written };
        foreach (var (key, clock) in Deps) session.Deps[key] = clock;
        foreach (var (key, version) in Local) session.Local[key] = version;
        if (Pending is not null)
        {
            session.Pending = new(Pending.Length);
            foreach (var (key, value, function) in Pending) session.Pending[key] = (value, function);
        }
        return session;
    }
}

/// <summary>A function execution's history record, as data (<see cref="CausalFunctionRecord"/> holds its operations as a list).</summary>
internal sealed record FunctionRecordData(long Process, long Seq, long Workflow, int Function, int[] Parents, bool Ok, int Server, CausalOp[] Ops, bool Transaction)
{
    public CausalFunctionRecord ToRecord() => new(Process, Seq, Workflow, Function, Parents, Ok, Server, Ops) { Transaction = Transaction };
}
