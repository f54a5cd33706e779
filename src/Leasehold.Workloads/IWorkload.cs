using Leasehold.Runtime.Storage;

namespace Leasehold.Workloads;

/// <summary>The verdict of a workload's invariant after a run.</summary>
public sealed record InvariantResult(string Name, bool Ok, string Detail);

/// <summary>
/// A workload: its workflows, its initial state, a seeded request generator and an invariant checked
/// against the committed state after the run (FoundationDB's setup / start / check phases).
/// </summary>
public interface IWorkload
{
    string Name { get; }
    IReadOnlyList<WorkflowDefinition> Workflows { get; }
    IEnumerable<KeyValuePair<StateKey, byte[]>> InitialState();

    /// <summary>The next request; deterministic for a given <paramref name="random"/>.</summary>
    (string Workflow, Args Args) Next(Random random);

    /// <summary>Accounts for a result the caller received (thread-safe).</summary>
    void Observe(string workflow, Args args, WorkflowResult result);

    Task<InvariantResult> CheckAsync(IStateStore store, CancellationToken cancellation = default);
}
