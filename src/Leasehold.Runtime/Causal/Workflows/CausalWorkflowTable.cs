using Leasehold.Runtime.Causal;

namespace Leasehold.Runtime.Causal.Workflows;

/// <summary>
/// The workflows a causal runtime (CausalMesh's or a baseline's) has registered, and the admission every one
/// of them shares: the workflow by name, and where its functions run. Thread-safe.
/// </summary>
internal sealed class CausalWorkflowTable
{
    private readonly Dictionary<string, WorkflowDefinition> _workflows = new(StringComparer.Ordinal);

    /// <summary>Checks the consistency level the protocol-specific checks did not; throws naming the problem.</summary>
    public static void RequireCausal(WorkflowDefinition workflow)
    {
        if (workflow.Consistency is not (Consistency.Causal or Consistency.TransactionalCausal))
            throw new WorkflowDefinitionException($"workflow '{workflow.Name}' asks for {workflow.Consistency} consistency; this cluster runs causal workflows");
    }

    /// <summary>What CausalMesh's client and servers both check before deploying a workflow: causal, and no function that may abort.</summary>
    public static void RequireDeployable(WorkflowDefinition workflow)
    {
        RequireCausal(workflow);
        if (workflow.MayAbortCount > 0)
            throw new WorkflowDefinitionException($"workflow '{workflow.Name}' declares functions that may abort; causal workflows never abort (their writes are visible at once)");
    }

    public void Add(WorkflowDefinition workflow)
    {
        lock (_workflows)
            if (!_workflows.TryAdd(workflow.Name, workflow)) throw new WorkflowDefinitionException($"a workflow named '{workflow.Name}' is already registered");
    }

    /// <summary>A registered workflow by name: the deployed code a server runs a hop's function from.</summary>
    public WorkflowDefinition Get(string workflow)
    {
        lock (_workflows)
            return _workflows.TryGetValue(workflow, out var found) ? found : throw new InvalidOperationException($"no workflow named '{workflow}' is registered on this server");
    }

    /// <summary>A registered workflow by name; false when this process has not deployed it.</summary>
    public bool TryGet(string workflow, out WorkflowDefinition definition)
    {
        lock (_workflows)
            return _workflows.TryGetValue(workflow, out definition!);
    }

    /// <summary>
    /// The registered workflow and its placement (the invocation's, checked, or drawn from <paramref name="random"/>);
    /// false when the request is rejected, after <paramref name="onDone"/> was told why. A rejected request hands
    /// the caller's token back unchanged: it never ran, and a client that keeps <c>result.Token</c> keeps its session.
    /// </summary>
    public bool TryAdmit(string workflow, CausalInvocation invocation, ClusterIdentity cluster, int servers, Random random, Action<CausalResult> onDone,
        out WorkflowDefinition definition, out int[] placement)
    {
        WorkflowDefinition? found;
        lock (_workflows) _workflows.TryGetValue(workflow, out found);
        definition = found!;
        placement = [];
        if (found is null)
        {
            onDone(new CausalResult(WorkflowStatus.Rejected, -1, $"no workflow named '{workflow}' is registered", [], invocation.Token));
            return false;
        }
        // A foreign token's clocks name another cluster's versions: refused before anything reads them.
        if (invocation.Token is { } token && cluster.Refuses(token) is { } refused)
        {
            onDone(new CausalResult(WorkflowStatus.Rejected, -1, refused, [], token) { Workflow = found });
            return false;
        }
        if (CausalPlacement.Of(invocation, found.Functions.Count, servers, random, out var problem) is not { } drawn)
        {
            onDone(new CausalResult(WorkflowStatus.Rejected, -1, problem, [], invocation.Token) { Workflow = found });
            return false;
        }
        placement = drawn;
        return true;
    }
}
