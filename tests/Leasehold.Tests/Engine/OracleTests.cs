using CsCheck;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Transport;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Engine;

/// <summary>
/// The serializability oracle: random workflows (1–6 functions, fan-out and fan-in, 1–3 keys each,
/// reads and writes, random aborts) over a small hot key space, on 1–8 workers in the deterministic
/// mode; every output and the final state must equal a serial run in timestamp order.
/// </summary>
public class OracleTests
{
    [Fact]
    [Trait("Category", "Long")]
    public void Lease_protocol_matches_the_serial_reference_on_many_seeds() =>
        Gen.Int[0, int.MaxValue].Sample(seed => RandomWorkflowRun.Check(seed, ProtocolKind.Lease), iter: 1500, threads: 1);

    [Fact]
    public void The_oracle_runs_exercise_remote_accesses_lease_moves_and_aborts()
    {
        // A property that never reaches the hard paths proves little: check the generated runs do.
        var runs = Enumerable.Range(0, 150).Select(seed => RandomWorkflowRun.Run(seed, ProtocolKind.Lease)).ToList();
        Assert.All(runs, r => Assert.True(r.MatchesReference, r.Mismatch));
        Assert.True(runs.Sum(r => r.RemoteOperations) > 1000, "few remote operations");
        Assert.True(runs.Sum(r => r.LeaseTransfers) > 100, "few lease transfers");
        Assert.True(runs.Sum(r => r.Aborted) > 100, "few aborts");
        Assert.True(runs.Count(r => r.Workers >= 4 && r.RemoteOperations > 0) > 20, "few multi-worker runs with remote accesses");
    }

    /// <summary>
    /// Over the serialising transport every message between the driver and the workers is encoded and decoded
    /// into a fresh object: a protocol that still shared an object between nodes (a request the driver reads
    /// back, a chain entry popped by identity) would diverge or fault here.
    /// </summary>
    [Fact]
    public void Lease_protocol_matches_the_serial_reference_over_the_serialising_transport()
    {
        var runs = Enumerable.Range(0, 200).Select(seed => (Seed: seed, Run: RandomWorkflowRun.Run(seed, ProtocolKind.Lease, transport: TransportKind.InprocSerialising))).ToList();
        Assert.All(runs, r => Assert.True(r.Run.MatchesReference, $"seed {r.Seed}: {r.Run.Mismatch}\nreplay: RandomWorkflowRun.Run({r.Seed}, ProtocolKind.Lease, transport: TransportKind.InprocSerialising)"));
        Assert.True(runs.All(r => r.Run.Workers == 1 || r.Run.EncodedBytes > 0), "a multi-worker run sent nothing through the codec");
        Assert.True(runs.All(r => r.Run.RemoteOperations == 0 || r.Run.OneSidedBytes > 0), "a run's one-sided operations bypassed the codec");
        Assert.True(runs.Sum(r => r.Run.RemoteOperations) > 1000, "few remote operations");
        Assert.True(runs.Sum(r => r.Run.Aborted) > 100, "few aborts");
    }

    [Fact]
    [Trait("Category", "Long")]
    public void Lease_protocol_matches_the_serial_reference_over_the_serialising_transport_on_many_seeds() =>
        Gen.Int[0, int.MaxValue].Sample(seed => RandomWorkflowRun.Check(seed, ProtocolKind.Lease, transport: TransportKind.InprocSerialising), iter: 1000, threads: 1);

    [Fact]
    public void Declared_write_gating_also_matches_the_serial_reference_when_only_business_aborts_occur() =>
        Gen.Int[0, int.MaxValue].Sample(seed => RandomWorkflowRun.Check(seed, ProtocolKind.Lease, WriteGating.DeclaredAborts), iter: 800, threads: 1);

    [Fact]
    public void A_fixed_seed_replays_exactly()
    {
        var first = RandomWorkflowRun.Run(12345, ProtocolKind.Lease);
        var second = RandomWorkflowRun.Run(12345, ProtocolKind.Lease);
        Assert.Equal(first.Steps, second.Steps);
        Assert.Equal(first.Trace, second.Trace);
    }

    [Fact]
    public void NoCC_diverges_from_the_serial_reference_under_contention()
    {
        // The negative control: without per-key ordering some seed must produce a non-serial result.
        int diverged = Enumerable.Range(1, 40).Count(seed => !RandomWorkflowRun.Run(seed, ProtocolKind.NoCC).MatchesReference);
        Assert.True(diverged > 0, "nocc matched the serial reference on every seed: the oracle cannot tell right from wrong");
        int divergedSerialised = Enumerable.Range(1, 40).Count(seed => !RandomWorkflowRun.Run(seed, ProtocolKind.NoCC, transport: TransportKind.InprocSerialising).MatchesReference);
        Assert.True(divergedSerialised > 0, "nocc matched the serial reference on every seed over the serialising transport");
    }
}
