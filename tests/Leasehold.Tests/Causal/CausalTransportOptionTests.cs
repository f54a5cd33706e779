using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Transport;

namespace Leasehold.Tests.Causal;

/// <summary>CausalOptions.Transport: validated, and the serialising transport runs a seed exactly as the fast one does.</summary>
public class CausalTransportOptionTests
{
    [Fact]
    public void An_unknown_transport_is_refused_naming_it()
    {
        var e = Assert.Throws<ArgumentException>(() => new CausalOptions { Transport = (TransportKind)7 }.Validate());
        Assert.Contains("transport 7", e.Message);
    }

    /// <summary>
    /// The codec rebuilds every map in the sender's order and the ring's jitter selects the same messages by type,
    /// so one seed gives one schedule over both transports: the same executions, reads and values, step for step.
    /// A field the codec dropped or reordered would show up here as a different history.
    /// </summary>
    [Theory]
    [InlineData(42)]
    [InlineData(185)]
    public void A_seed_runs_the_same_history_over_both_transports(int seed)
    {
        var config = CausalSessionSweepTests.Random(seed);
        var (fastProblem, fast) = CausalSessionSweepTests.Micro(config);
        var (serialisingProblem, serialising) = CausalSessionSweepTests.Micro(config, transport: TransportKind.InprocSerialising);
        Assert.True(fastProblem is null && serialisingProblem is null, fastProblem ?? serialisingProblem);
        Assert.Equal(0, fast.BytesEncoded);
        Assert.True(serialising.BytesEncoded > 0, "nothing crossed the codec");
        Assert.Equal(fast.Cluster.Messages, serialising.Cluster.Messages);
        Assert.Equal(fast.Records.Count, serialising.Records.Count);
        for (int i = 0; i < fast.Records.Count; i++)
            Assert.True(Show(fast.Records[i]) == Show(serialising.Records[i]), $"seed {seed}, execution {i}: {Show(fast.Records[i])} vs {Show(serialising.Records[i])}");
    }

    private static string Show(CausalFunctionRecord r) =>
        $"p{r.Process}.{r.Seq} w{r.Workflow} f{r.Function} on {r.Server} ok {r.Ok} after [{string.Join(",", r.Parents)}]: " +
        string.Join(" ", r.Ops.Select(op => $"{(op.IsWrite ? "w" : "r")}({op.Key.Table}/{op.Key.Key}={Convert.ToHexString(op.Value ?? [])}{(op.Initial ? ",initial" : "")})"));
}
