using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Workflows;

namespace Leasehold.Baselines.Causal;

/// <summary>
/// One attempt of a baseline workflow: a transaction over the whole DAG, tracked as CausalMesh tracks its
/// own (<see cref="WorkflowAttempt{TState}"/>) with flows waiting at fan-ins. It also holds the records of
/// its functions, which are reported only once the attempt is decided: committed (Ok) or aborted (not Ok,
/// under an id of its own).
/// </summary>
internal sealed class Attempt(WorkflowDefinition workflow, Args args, long id, int[] placement, CausalInvocation invocation, Action<CausalResult> onDone,
    int aborts, object? session) : WorkflowAttempt<Flow>(workflow, args, id, placement, invocation, onDone, aborts)
{
    /// <summary>The protocol's session state from the caller's token (null: a fresh client).</summary>
    public object? Session { get; } = session;
    public List<CausalFunctionRecord> Records { get; } = [];
    /// <summary>Protocol scratch of the attempt (hydro-con's snapshot collection); touched on one mailbox only.</summary>
    public object? Scratch { get; set; }

    /// <summary>The servers its functions run on, without repeats, in order.</summary>
    public IEnumerable<int> Servers => Placement.Distinct().Order();

    public void Record(CausalFunctionRecord record)
    {
        lock (this) Records.Add(record);
    }

    /// <summary>Function <paramref name="index"/> finished with <paramref name="flow"/>: the children now ready, each with its parents' joined flow (or a conflict).</summary>
    public List<(int Child, Flow Flow, string? Conflict)> Finished(int index, Flow flow) =>
        [.. Finished(index, flow, static parents => parents.Count == 1 ? (parents[0].Clone(), (string?)null) : (Flow.Join(parents, out var conflict), conflict))
            .Select(r => (r.Child, r.Joined.Item1, r.Joined.Item2))];

    /// <summary>True once every function finished: the transaction's whole read and write set.</summary>
    public bool AllDone(out Flow final, out string? conflict)
    {
        bool done = AllDone(static flows => (Flow.Join(flows, out var conflict), conflict), out var joined);
        (final, conflict) = done ? joined : (null!, null);
        return done;
    }
}
