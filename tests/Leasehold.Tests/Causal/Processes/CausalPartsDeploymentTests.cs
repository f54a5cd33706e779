using Leasehold.Runtime.Causal;
using Leasehold.Workloads.Causal;

namespace Leasehold.Tests.Causal.Processes;

/// <summary>
/// Every process of a causal cluster loads the same workflows. A server part that did not deploy a workflow (a worker
/// started with other workflows) runs none of its functions: the caller is answered Failed with a reason naming the
/// server and the workflow, and nothing faults.
/// </summary>
public class CausalPartsDeploymentTests
{
    [Fact]
    public void A_hop_for_a_workflow_a_server_part_did_not_deploy_fails_the_workflow_naming_it()
    {
        var micro = new CausalMicroWorkload(keys: 8, theta: 0.8);
        var other = new WorkflowBuilder("other").WithConsistency(Consistency.Causal).Function("f", f => f.Body(_ => null)).Build();
        var parts = new CausalParts(1, new CausalOptions { Servers = 3, LinkLatency = TimeSpan.FromMicroseconds(20) }, () => [other]);
        parts.Client.Register(micro.Workflow); // the driver has it; no worker does
        CausalResult? result = null;
        parts.Client.Submit(CausalMicroWorkload.Name, micro.Next(new Random(1)), r => result = r, new CausalInvocation { Placement = [1, 2, 0] });
        parts.Scheduler.RunToQuiescence();
        Assert.Null(parts.Scheduler.Fault);
        Assert.Equal(WorkflowStatus.Failed, result!.Status);
        Assert.Contains("server 1 has no workflow named 'causal-micro' deployed", result.Reason);
        Assert.Equal(1, parts.Servers[1].Undeployed);
        Assert.Equal(0, parts.Servers[2].Undeployed); // its function was never sent on
    }

    [Fact]
    public void A_workflow_every_part_deployed_runs_beside_it()
    {
        var other = new WorkflowBuilder("other").WithConsistency(Consistency.Causal).Function("f", f => f.Body(_ => Value.FromLong(7))).Build();
        var parts = new CausalParts(2, new CausalOptions { Servers = 2 }, () => [other]);
        CausalResult? result = null;
        parts.Client.Submit("other", Args.Empty, r => result = r, new CausalInvocation { Placement = [1] });
        parts.Scheduler.RunToQuiescence();
        Assert.True(result!.Succeeded, result.Reason);
        Assert.Equal(7, Value.ToLong(result.Outputs[0]));
        Assert.All(parts.Servers, s => Assert.Equal(0, s.Undeployed));
    }
}
