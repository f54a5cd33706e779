using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;

namespace Leasehold.Tests.Causal;

/// <summary>
/// Closed-loop processes over a causal runtime, for the deterministic tests: each issues its next workflow
/// when the last finishes, carrying its session token, until <paramref name="workflows"/> were issued in all.
/// </summary>
public static class CausalClosedLoop
{
    public static void Start(ICausalRuntime runtime, int seed, int processes, int workflows, Func<int, Random, (string Workflow, Args Args)> next,
        List<CausalResult> results, Action<string, WorkflowStatus, byte[]?[]>? observe) =>
        Start(runtime.Submit, seed, processes, workflows, next, results, observe);

    /// <summary>As above, submitting through <paramref name="submit"/> (a client part of a cluster spread over processes).</summary>
    public static void Start(Action<string, Args, Action<CausalResult>, CausalInvocation?> submit, int seed, int processes, int workflows,
        Func<int, Random, (string Workflow, Args Args)> next, List<CausalResult> results, Action<string, WorkflowStatus, byte[]?[]>? observe)
    {
        var random = new Random(seed ^ 0xC0FFEE);
        int issued = 0;
        var seq = new long[processes];
        void Issue(int process, SessionToken? token)
        {
            if (issued >= workflows) return;
            issued++;
            var (workflow, args) = next(process, random);
            submit(workflow, args, result =>
            {
                results.Add(result);
                observe?.Invoke(workflow, result.Status, result.Outputs);
                Issue(process, result.Token ?? token);
            }, new CausalInvocation { Token = token, Process = process, Seq = seq[process]++ });
        }
        for (int p = 0; p < processes; p++) Issue(p, null);
    }
}
