using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Engine;

/// <summary>Declared gating with functions that fail by error is not atomic (by design, reported NOT ATOMIC), but it must never fault, hang or leak.</summary>
public class DeclaredErrorsLivenessTests
{
    [Fact]
    public void Declared_gating_with_errors_answers_every_request_and_frees_its_state()
    {
        var failures = new List<string>();
        for (int seed = 0; seed < 300 && failures.Count < 5; seed++)
        {
            var o = ConfigurableOracleRun.Run(seed, new ConfigurableOracleRun.Config
            {
                ErrorFunctions = 0.3, TimerBias = seed % 2 == 0 ? -1 : 0.3, LenientEndStatus = true,
                Options = (_, o) => o with { WriteGating = WriteGating.DeclaredAborts },
            });
            if (!o.Ok && (o.Problem.Contains("fault") || o.Problem.Contains("never answered") || o.Problem.Contains("not freed") || o.Problem.Contains("livelock")))
                failures.Add($"seed {seed}: {o.Problem}\n   {o.Options}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} failing seeds:\n" + string.Join("\n", failures));
    }
}
