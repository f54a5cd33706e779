using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Engine;

/// <summary>nocc is unsafe by design, but it must still answer every request, never fault, and free its batch state.</summary>
public class NoCCLivenessTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NoCC_answers_everything_and_frees_batch_state(bool pingpong)
    {
        var failures = new List<string>();
        for (int seed = 0; seed < 300 && failures.Count < 5; seed++)
        {
            var o = ConfigurableOracleRun.Run(seed, new ConfigurableOracleRun.Config
            {
                Options = (_, o) => pingpong
                    ? o with { Protocol = ProtocolKind.NoCC, Decay = 0.5, LeaseHysteresis = 0, AffinityWeight = 0.2, LoadWeight = 3, MaxBatchSize = 2 }
                    : o with { Protocol = ProtocolKind.NoCC },
            });
            if (!o.Ok && !o.Problem.Contains("engine") && !o.Problem.Contains("final state")) failures.Add($"seed {seed}: {o.Problem}\n   {o.Options}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} failing seeds:\n" + string.Join("\n", failures));
    }
}
