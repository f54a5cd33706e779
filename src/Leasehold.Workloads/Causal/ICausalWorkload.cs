namespace Leasehold.Workloads.Causal;

/// <summary>A causal-mode workload: its workflows, a seeded request generator, initial values, and its own invariant.</summary>
public interface ICausalWorkload
{
    string Name { get; }
    IReadOnlyList<WorkflowDefinition> Workflows { get; }
    /// <summary>The initial value of a key (null: none); every server starts from these.</summary>
    byte[]? Initial(StateKey key);
    (string Workflow, Args Args) Next(Random random);
    /// <summary>Sees every finished workflow (thread-safe).</summary>
    void Observe(string workflow, WorkflowStatus status, byte[]?[] outputs);
    InvariantResult Check();
}
