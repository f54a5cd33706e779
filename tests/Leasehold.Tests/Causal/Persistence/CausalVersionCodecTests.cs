using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Persistence;

namespace Leasehold.Tests.Causal.Persistence;

public class CausalVersionCodecTests
{
    private static readonly CausalVersion Full = new([1, 2, 3], VectorClock.Of(4, 0, 7),
        new Dictionary<StateKey, VectorClock> { [new("t", "x")] = VectorClock.Of(1, 0, 2), [new("ü", "")] = VectorClock.Of(0, 0, 300) },
        VectorClock.Of(4, 0, 1));

    public static TheoryData<CausalVersion> Versions() =>
    [
        Full,
        new(null, VectorClock.Of(0, 0, 0), new Dictionary<StateKey, VectorClock>()),
        new([], VectorClock.Of(long.MaxValue, 1, 2), new Dictionary<StateKey, VectorClock>()),
        Full with { WriterClock = Full.Clock }, // a writer equal to the clock is not stored twice
    ];

    [Theory]
    [MemberData(nameof(Versions))]
    public void A_version_round_trips(CausalVersion version)
    {
        var back = CausalVersionCodec.Decode(CausalVersionCodec.Encode(version), 3);
        Assert.Equal(version.Value, back.Value);
        Assert.Equal(version.Clock, back.Clock);
        Assert.Equal(version.Writer, back.Writer);
        Assert.Equal(version.Deps.OrderBy(d => d.Key.ToString()), back.Deps.OrderBy(d => d.Key.ToString()));
    }

    [Fact]
    public void Corrupt_bytes_are_an_error_that_names_the_cause()
    {
        var good = CausalVersionCodec.Encode(Full);
        string Error(byte[] bytes, int servers = 3) => Assert.Throws<CausalVersionFormatException>(() => CausalVersionCodec.Decode(bytes, servers)).Message;
        Assert.Contains("empty", Error([]));
        Assert.Contains("format 9", Error([9, .. good[1..]]));
        Assert.Contains("cluster has 4 servers", Error(good, servers: 4));
        Assert.Contains("trailing", Error([.. good, 0]));
        for (int cut = 1; cut < good.Length; cut++) Assert.Contains("not a stored causal version", Error(good[..cut])); // every prefix is refused
        Assert.Contains("truncated", Error(good[..^1]));
        var writerAbove = CausalVersionCodec.Encode(new CausalVersion(null, VectorClock.Of(1, 1, 1), new Dictionary<StateKey, VectorClock>(), VectorClock.Of(2, 1, 1)));
        Assert.Contains("not within the merged clock", Error(writerAbove));
    }
}
