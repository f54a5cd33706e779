using Leasehold.Tests.Support;

namespace Leasehold.Tests.Engine;

/// <summary>The oracle on real threads (ThreadPoolScheduler, deadline queue): not replayable, but it reaches interleavings the one-thread mode cannot.</summary>
public class RealThreadOracleTests
{
    [Fact]
    public void Lease_matches_the_serial_reference_on_real_threads()
    {
        var failures = new List<string>();
        for (int seed = 0; seed < 150 && failures.Count < 5; seed++)
        {
            var o = ConfigurableOracleRun.Run(seed, new ConfigurableOracleRun.Config { RealThreads = true });
            if (!o.Ok) failures.Add($"seed {seed}: {o.Problem}\n   {o.Options}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} failing seeds:\n" + string.Join("\n", failures));
    }
}
