using System.Buffers;
using BenchmarkDotNet.Attributes;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Benchmarks;

/// <summary>
/// One message encoded into a reused buffer and decoded back, as the serialising transport does per send:
/// the hot path's smallest message (a grant) and a batch's plan of 64 workflows of 3 functions with 2 accesses each.
/// </summary>
[MemoryDiagnoser]
public class WireCodecBenchmarks
{
    private readonly ArrayBufferWriter<byte> _buffer = new(64 << 10);
    private GrantMsg _grant = null!;
    private PlanMsg _plan = null!;

    [GlobalSetup]
    public void Setup()
    {
        _grant = new GrantMsg(KeyId: 17, Ts: 123_456, Position: 2, AccessIndex: 1);
        _plan = new PlanMsg(7, 1000, new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero),
            [.. Enumerable.Range(0, 64).Select(i => new PlannedWorkflow(1000 + i, "transfer",
                Args.Create().Set("from", i).Set("to", i + 1).Set("amount", 10).Build(),
                [.. Enumerable.Range(0, 3).Select(_ => new[]
                {
                    new ResolvedAccess(2 * i, new StateKey("accounts", $"a{i}"), AccessMode.ReadWrite),
                    new ResolvedAccess(2 * i + 1, new StateKey("accounts", $"a{i + 1}"), AccessMode.Read),
                })]))],
            [.. Enumerable.Range(0, 128).Select(k => new LeaseEntry(k, new StateKey("accounts", $"a{k}"), k % 4, (k + 1) % 4, k % 2 == 0))]);
        _grant.Stamp(NodeId.Worker(1), new Incarnation(1));
        _plan.Stamp(NodeId.Driver, new Incarnation(1));
    }

    [Benchmark]
    public Message Grant() => RoundTrip(_grant);

    [Benchmark]
    public Message Plan64() => RoundTrip(_plan);

    private Message RoundTrip(Message message)
    {
        _buffer.ResetWrittenCount();
        WireCodec.Encode(message, _buffer);
        return WireCodec.TryDecode(_buffer.WrittenSpan, WireLimits.Default, out var decoded, out var refusal)
            ? decoded
            : throw new InvalidOperationException(refusal.ToString());
    }
}
