using CsCheck;
using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Storage;
using Leasehold.Tests.Causal.Persistence;

namespace Leasehold.Tests.Causal;

/// <summary>
/// A session token belongs to the cluster that issued it: its serialized form round-trips, and a cluster refuses
/// a foreign, wrong-size or malformed token at admission with the cause named, never as the user's function failing.
/// </summary>
public class SessionTokenTests
{
    private const string T = "t";

    private static WorkflowDefinition WriteX() => new WorkflowBuilder("write-x").WithConsistency(Consistency.Causal)
        .Function("write", f => f.Updates(T, a => "x").Body(ctx => { ctx.WriteLong(T, "x", ctx.Args.GetLong("v")); return null; }))
        .Build();

    private static WorkflowDefinition ReadX() => new WorkflowBuilder("read-x").WithConsistency(Consistency.Causal)
        .Function("read", f => f.Reads(T, a => "x").Body(ctx => Value.FromLong(ctx.ReadLong(T, "x"))))
        .Build();

    private static (DeterministicScheduler Scheduler, CausalCluster Cluster) NewCluster(int seed, int servers)
    {
        var scheduler = new DeterministicScheduler(seed);
        // A long latency: a write is still on its laps when the next workflow reads, so only the token can show it.
        var cluster = new CausalCluster(new CausalOptions { Servers = servers, LinkLatency = TimeSpan.FromMilliseconds(1), Seed = seed }, scheduler);
        cluster.Register(WriteX());
        cluster.Register(ReadX());
        return (scheduler, cluster);
    }

    private static CausalResult Run(DeterministicScheduler scheduler, CausalCluster cluster, string workflow, Args args, CausalInvocation invocation) =>
        CausalRun.Invoke(scheduler, cluster, workflow, args, invocation);

    private static SessionToken Wrote(DeterministicScheduler scheduler, CausalCluster cluster, long value)
    {
        var wrote = Run(scheduler, cluster, "write-x", Args.Create().Set("v", value).Build(), new CausalInvocation { Placement = [0] });
        Assert.True(wrote.Succeeded, wrote.Reason);
        return wrote.Token!;
    }

    [Fact]
    public void A_serialized_token_parses_back_to_one_that_still_reads_its_writes()
    {
        var (scheduler, cluster) = NewCluster(seed: 3, servers: 4);
        var token = Wrote(scheduler, cluster, 7);
        var bytes = token.Serialize();
        Assert.Equal(SessionTokenCodec.Format, bytes[0]);

        var parsed = SessionToken.Parse(bytes);
        Assert.Equal(bytes, parsed.Serialize());
        Assert.Equal((token.ClusterId, token.Servers, token.Entries), (parsed.ClusterId, parsed.Servers, parsed.Entries));
        var fromText = SessionToken.ParseBase64(token.ToBase64());
        Assert.Equal(bytes, fromText.Serialize());

        // Server 3 has not seen the write yet (it is on its laps): only the parsed token's own write can answer 7.
        var read = Run(scheduler, cluster, "read-x", Args.Empty, new CausalInvocation { Placement = [3], Token = parsed });
        Assert.True(read.Succeeded, read.Reason);
        Assert.Equal(7, Value.ToLong(read.Output("read")));
    }

    [Fact]
    public void A_token_from_an_in_memory_cluster_that_restarted_is_refused_with_its_cause()
    {
        var (oldScheduler, old) = NewCluster(seed: 5, servers: 4);
        var token = Wrote(oldScheduler, old, 7);
        // The same configuration started again: its state is gone, so the old token's clocks name nothing here.
        var (scheduler, restarted) = NewCluster(seed: 5, servers: 4);
        Assert.NotEqual(old.Identity.Id, restarted.Identity.Id);

        var read = Run(scheduler, restarted, "read-x", Args.Empty, new CausalInvocation { Placement = [3], Token = token });
        Assert.Equal(WorkflowStatus.Rejected, read.Status);
        Assert.Contains("another causal cluster", read.Reason);
        Assert.Same(token, read.Token); // the caller's session is handed back, not lost
        // The refused token left nothing behind: a fresh reader on the restarted cluster still reads the initial value.
        var fresh = Run(scheduler, restarted, "read-x", Args.Empty, new CausalInvocation { Placement = [3] });
        Assert.Equal(0, Value.ToLong(fresh.Output("read")));
    }

    [Fact]
    public void A_token_carried_through_bytes_to_another_cluster_is_refused()
    {
        var (scheduler1, first) = NewCluster(seed: 6, servers: 4);
        var bytes = Wrote(scheduler1, first, 7).Serialize();
        var (scheduler2, second) = NewCluster(seed: 7, servers: 4);
        var read = Run(scheduler2, second, "read-x", Args.Empty, new CausalInvocation { Placement = [1], Token = SessionToken.Parse(bytes) });
        Assert.Equal(WorkflowStatus.Rejected, read.Status);
        Assert.Contains("another causal cluster", read.Reason);
    }

    [Fact]
    public void A_token_for_a_cluster_of_another_size_is_refused_not_failed_as_the_users_function()
    {
        var (scheduler3, small) = NewCluster(seed: 8, servers: 3);
        var bytes = Wrote(scheduler3, small, 7).Serialize();
        var (scheduler, cluster) = NewCluster(seed: 9, servers: 4);
        // The right cluster id, but clocks of three entries: what a client holding a token across a resize would send.
        BitConverter.TryWriteBytes(bytes.AsSpan(1, 8), cluster.Identity.Id);
        var token = SessionToken.Parse(bytes);
        var read = Run(scheduler, cluster, "read-x", Args.Empty, new CausalInvocation { Placement = [1], Token = token });
        Assert.Equal(WorkflowStatus.Rejected, read.Status);
        Assert.Contains("a cluster of 3 servers, this one has 4", read.Reason);
        Assert.Same(token, read.Token);
    }

    [Fact]
    public void An_error_of_the_runtime_during_a_read_is_not_reported_as_the_functions_own()
    {
        var scheduler = new DeterministicScheduler(10);
        var cluster = new CausalCluster(new CausalOptions { Servers = 4, CheckInvariants = true, Seed = 10 }, scheduler);
        cluster.Register(ReadX());
        // This cluster's id and size, but a dep on a write no server ever made: what a forged token carries.
        var session = new CausalSession();
        session.Deps[new StateKey(T, "x")] = VectorClock.Of(0, 99, 0, 0);
        var read = Run(scheduler, cluster, "read-x", Args.Empty, new CausalInvocation { Placement = [2], Token = new SessionToken(session, cluster.Identity) });
        Assert.Equal(WorkflowStatus.Failed, read.Status);
        Assert.StartsWith("the causal runtime failed while function 'read' ran", read.Reason);
        Assert.Contains("invariant 4", read.Reason);
    }

    [Fact]
    public void A_cluster_restarted_on_its_store_keeps_its_identity_and_another_store_gives_another()
    {
        var memory = new MemoryStateStore();
        var options = new CausalOptions { Servers = 2, Durability = CausalDurability.WriteBehind };
        var first = new CausalCluster(options, new DeterministicScheduler(1), store: StoreRuns.Open(memory));
        var again = new CausalCluster(options, new DeterministicScheduler(1), store: StoreRuns.Open(memory));
        var other = new CausalCluster(options, new DeterministicScheduler(1), store: StoreRuns.Open(new MemoryStateStore()));
        Assert.Equal(first.Identity, again.Identity);
        Assert.NotEqual(first.Identity.Id, other.Identity.Id);
    }

    [Fact]
    public void Every_malformed_token_is_refused_with_the_cause_named()
    {
        var (scheduler, cluster) = NewCluster(seed: 4, servers: 4);
        var bytes = Wrote(scheduler, cluster, 7).Serialize();

        Assert.Contains("empty", Refused([]));
        for (int length = 1; length < bytes.Length; length++)
            Assert.Contains("truncated", Refused(bytes[..length]));
        var version = (byte[])bytes.Clone();
        version[0] = 9;
        Assert.Contains("format 9 is not one this build reads", Refused(version));
        var noServers = (byte[])bytes.Clone();
        noServers[9] = 0;
        Assert.Contains("1..1024 servers, not 0", Refused(noServers));
        Assert.Contains("trailing bytes", Refused([.. bytes, 0]));
        Assert.Contains("not base64", Assert.Throws<SessionTokenFormatException>(() => SessionToken.ParseBase64("not a token!")).Message);
        Assert.False(SessionToken.TryParse(bytes[..5], out var none, out var error));
        Assert.Null(none);
        Assert.Contains("truncated", error);
    }

    private static string Refused(byte[] bytes) => Assert.Throws<SessionTokenFormatException>(() => SessionToken.Parse(bytes)).Message;

    [Fact]
    public void Parsing_any_bytes_either_gives_a_token_or_throws_the_format_error()
    {
        var (scheduler, cluster) = NewCluster(seed: 2, servers: 3);
        var valid = Wrote(scheduler, cluster, 7).Serialize();
        // Random bytes, and damaged copies of a valid token (a flipped byte, a cut): both must stay within the contract.
        var damaged = Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Byte, Gen.Int[0, valid.Length]).Select((at, b, cut) =>
        {
            var copy = (byte[])valid.Clone();
            copy[at] = b;
            return copy[..cut];
        });
        Gen.OneOf(Gen.Byte.Array[0, 64], damaged).Sample(bytes =>
        {
            SessionToken token;
            try { token = SessionToken.Parse(bytes); }
            catch (SessionTokenFormatException) { return; }
            // What parses is a whole token: its canonical form parses again, to the same form.
            var canonical = token.Serialize();
            Assert.Equal(canonical, SessionToken.Parse(canonical).Serialize());
        }, iter: 20_000);
    }
}
