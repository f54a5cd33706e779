using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Messages;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Wire;
using static Leasehold.Tests.Transport.WireCodecRoundTripTests;

namespace Leasehold.Tests.Transport;

/// <summary>
/// A causal message whose clocks or indexes no cluster could have sent is refused with the field named: the sender
/// encodes what it is given, so each frame here is well formed and only its content is out of bounds.
/// </summary>
public class CausalWireRefusalTests
{
    private static readonly StateKey X = new("t", "x");

    private static WireRefusal Refused(Message message, WireLimits? limits = null)
    {
        bool decoded = WireCodec.TryDecode(Frame(message), limits ?? WireLimits.Default, out var copy, out var refusal);
        Assert.False(decoded, $"decoded as {copy}");
        return refusal;
    }

    private static SessionData Session(params KeyClock[] deps) => new(deps, [], null, null, null, null);

    private static FunctionCall Call(int function, int[] placement) =>
        new(1, "w", function, Args.Empty, placement, Session(), new byte[]?[placement.Length], 0, 0, false);

    [Fact]
    public void A_clock_with_more_entries_than_the_cluster_has_servers_is_refused()
    {
        var refusal = Refused(new AttemptAbortedMsg(1, VectorClock.Of(1, 2, 3, 4, 5)), WireLimits.Default with { MaxServers = 4 });
        Assert.Equal(WireRefusalKind.FieldOutOfBounds, refusal.Kind);
        Assert.Contains("VectorClock of 5 entries", refusal.Detail);
    }

    [Fact]
    public void A_negative_clock_entry_is_refused()
    {
        var refusal = Refused(new AttemptAbortedMsg(1, VectorClock.Of(1, -1)));
        Assert.Equal((WireRefusalKind.FieldOutOfBounds, "VectorClock entry"), (refusal.Kind, refusal.Detail));
    }

    [Fact]
    public void A_session_whose_clocks_differ_in_size_is_refused()
    {
        var session = new SessionData([new KeyClock(X, VectorClock.Of(1, 0))], [new KeyedVersion(new StateKey("t", "y"), new CausalVersion(null, VectorClock.Of(1, 0, 0), Dependencies.None))],
            null, null, null, null);
        var refusal = Refused(new CommitMsg(1, session));
        Assert.Equal(WireRefusalKind.FieldOutOfBounds, refusal.Kind);
        Assert.Contains("SessionData.Local mixes clocks of 2 and 3 entries", refusal.Detail);
    }

    [Fact]
    public void A_key_twice_among_a_sessions_own_writes_is_refused()
    {
        var version = new CausalVersion(null, VectorClock.Of(1, 0), Dependencies.None);
        var refusal = Refused(new CommitMsg(1, new SessionData([], [new(X, version), new(X, version)], null, null, null, null)));
        Assert.Equal(WireRefusalKind.Malformed, refusal.Kind);
        Assert.Contains($"SessionData.Local holds {X} twice", refusal.Detail);
    }

    [Fact]
    public void A_writer_clock_beyond_its_versions_clock_is_refused()
    {
        var version = new CausalVersion(null, VectorClock.Of(1, 0), Dependencies.None, WriterClock: VectorClock.Of(0, 1));
        var refusal = Refused(new EventualPropagateMsg(X, version, 0));
        Assert.Equal(WireRefusalKind.FieldOutOfBounds, refusal.Kind);
        Assert.Contains("WriterClock", refusal.Detail);
    }

    [Fact]
    public void A_head_or_lap_outside_the_ring_is_refused()
    {
        var version = new CausalVersion(null, VectorClock.Of(1, 0), Dependencies.None);
        Assert.Equal("Propagation.Head", Refused(new RingPropagateMsg(new Propagation(X, version, 2, 1, VectorClock.Of(0, 0)))).Detail);
        Assert.Equal("Propagation.Lap", Refused(new RingPropagateMsg(new Propagation(X, version, 0, 3, VectorClock.Of(0, 0)))).Detail);
        Assert.Equal("StableNotice.Tail", Refused(new RingStableMsg(new StableNotice(X, VectorClock.Of(1, 0), 0, 2, VectorClock.Of(0, 0)))).Detail);
    }

    [Fact]
    public void A_function_or_server_outside_the_workflows_placement_is_refused()
    {
        Assert.Equal("FunctionCall.Function", Refused(new FunctionHopMsg(Call(2, [0, 1]))).Detail);
        Assert.Equal("FunctionCall.Placement[]", Refused(new FunctionHopMsg(Call(0, [0, 1024]))).Detail);
        Assert.Equal("FunctionHopMsg.Parent", Refused(new FunctionHopMsg(Call(1, [0, 1]), Parent: 2)).Detail);
        Assert.StartsWith("StartTransactionMsg.OtherServers", Refused(new StartTransactionMsg(Call(0, [0, 1]), [1], [], null)).Detail);
    }

    [Fact]
    public void The_same_messages_within_bounds_decode()
    {
        var version = new CausalVersion(null, VectorClock.Of(1, 0), Dependencies.None, WriterClock: VectorClock.Of(1, 0));
        Message[] valid =
        [
            new AttemptAbortedMsg(1, VectorClock.Of(1, 2, 3, 4)),
            new CommitMsg(1, new SessionData([new KeyClock(X, VectorClock.Of(1, 0))], [new KeyedVersion(new StateKey("t", "y"), version)], null, null, null, null)),
            new EventualPropagateMsg(X, version, 1),
            new RingPropagateMsg(new Propagation(X, version, 1, 2, VectorClock.Of(0, 0))),
            new FunctionHopMsg(Call(1, [0, 1]), Parent: 0),
        ];
        foreach (var message in valid)
            Assert.True(WireCodec.TryDecode(Frame(message), WireLimits.Default with { MaxServers = 4 }, out _, out var refusal), $"{message.GetType().Name}: {refusal}");
    }
}
