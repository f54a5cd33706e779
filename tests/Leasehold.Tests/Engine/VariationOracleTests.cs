using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Engine;

/// <summary>
/// The oracle under variations the stock oracle does not force: lease ping-pong, batch size 1, one
/// worker, one executor, zero latencies, declared gating, and the chaos scheduler (delayed operations
/// landing while mailboxes still have work). Every run must match the serial reference and free its
/// per-batch state.
/// </summary>
public class VariationOracleTests
{
    public static readonly Dictionary<string, ConfigurableOracleRun.Config> Configs = new()
    {
        ["pingpong"] = new() { Options = (_, o) => o with { Decay = 0.5, LeaseHysteresis = 0, AffinityWeight = 0.2, LoadWeight = 3, MaxBatchSize = 2 } },
        ["batch1"] = new() { Options = (_, o) => o with { MaxBatchSize = 1 } },
        ["bigbatch"] = new() { Options = (_, o) => o with { MaxBatchSize = 500, MaxBatchDelay = TimeSpan.FromMilliseconds(1) }, MinRequests = 50, MaxRequests = 200 },
        ["oneworker"] = new() { Options = (_, o) => o with { Workers = 1 } },
        ["oneexecutor"] = new() { Options = (_, o) => o with { ExecutorsPerWorker = 1 } },
        ["zerolatency"] = new() { Options = (_, o) => o with { RemoteOpLatency = TimeSpan.Zero, LinkLatency = TimeSpan.Zero } },
        ["remoteonly"] = new() { Options = (r, o) => o with { RemoteOpLatency = TimeSpan.FromMicroseconds(r.Next(1, 20)), LinkLatency = TimeSpan.Zero } },
        ["linkonly"] = new() { Options = (r, o) => o with { RemoteOpLatency = TimeSpan.Zero, LinkLatency = TimeSpan.FromMicroseconds(r.Next(1, 20)) } },
        ["declared"] = new() { Options = (_, o) => o with { WriteGating = WriteGating.DeclaredAborts } },
        ["manykeys"] = new() { MaxKeysPerFunction = 6, MinKeys = 6, MaxKeys = 12, Options = (_, o) => o with { Workers = 8, LoadWeight = 3, AffinityWeight = 0 } },
        ["chaos"] = new() { TimerBias = 0.3 },
        ["errors"] = new() { ErrorFunctions = 0.3, LenientEndStatus = true },
        ["errors-chaos-pingpong"] = new() { ErrorFunctions = 0.3, LenientEndStatus = true, TimerBias = 0.3, Options = (_, o) => o with { Decay = 0.5, LeaseHysteresis = 0, AffinityWeight = 0.2, LoadWeight = 3, MaxBatchSize = 2 } },
        ["chaos-pingpong"] = new() { TimerBias = 0.3, Options = (_, o) => o with { Decay = 0.5, LeaseHysteresis = 0, AffinityWeight = 0.2, LoadWeight = 3, MaxBatchSize = 2 } },
        ["chaos-declared"] = new() { TimerBias = 0.5, Options = (_, o) => o with { WriteGating = WriteGating.DeclaredAborts } },
        ["chaos-remoteonly"] = new() { TimerBias = 0.5, Options = (r, o) => o with { RemoteOpLatency = TimeSpan.FromMicroseconds(r.Next(1, 20)), LinkLatency = TimeSpan.Zero } },
    };

    public static TheoryData<string> Names() => [.. Configs.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void Lease_matches_the_serial_reference_under_variation(string name)
    {
        var config = Configs[name];
        var failures = new List<string>();
        for (int seed = 0; seed < 300 && failures.Count < 5; seed++)
        {
            var o = ConfigurableOracleRun.Run(seed, config);
            if (!o.Ok) failures.Add($"seed {seed}: {o.Problem}\n   {o.Options}");
        }
        Assert.True(failures.Count == 0, $"{name}: {failures.Count} failing seeds (first 5):\n" + string.Join("\n", failures));
    }
}
