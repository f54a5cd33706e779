using Leasehold.Runtime.Hosting.Processes;
using CsCheck;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Serializable.Worker;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Tests.Transport;

/// <summary>
/// A generator for every message the wire carries, within <see cref="Runtime.Transport.Wire.WireLimits.Default"/>.
/// Strings are any UTF-16 (lone surrogates included), so the codec must carry them exactly.
/// </summary>
internal static class WireMessageGenerators
{
    private static readonly Gen<string> AnyString = Gen.String[0, 12];
    private static readonly Gen<int> KeyId = Gen.Int[0, int.MaxValue];
    private static readonly Gen<int> Position = Gen.Int[0, 64];
    private static readonly Gen<int> AccessIndex = Gen.Int[0, 1023];
    private static readonly Gen<int> Worker = Gen.Int[0, 1023];
    private static readonly Gen<StateKey> Key = Gen.Select(AnyString, AnyString, (t, k) => new StateKey(t, k));
    private static readonly Gen<byte[]> Bytes = Gen.Byte.Array[0, 40];

    internal static readonly Gen<Args> ArgsGen = Gen.Int[0, 4].SelectMany(n =>
        Gen.OneOf<object>(Gen.Long.Select(l => (object)l), AnyString.Select(s => (object)s), Bytes.Select(b => (object)b)).Array[n, n]
            .Select(values =>
            {
                var args = Args.Create();
                for (int i = 0; i < values.Length; i++)
                {
                    string name = $"p{i}";
                    _ = values[i] switch { long l => args.Set(name, l), string s => args.Set(name, s), var b => args.Set(name, (byte[])b) };
                }
                return args.Build();
            }));

    private static readonly Gen<DateTimeOffset> Time = Gen.Select(Gen.Long[DateTime.MinValue.Ticks + TimeSpan.TicksPerDay, DateTime.MaxValue.Ticks - TimeSpan.TicksPerDay], Gen.Int[-14 * 60, 14 * 60],
        (ticks, offset) => new DateTimeOffset(ticks, TimeSpan.FromMinutes(offset)));

    private static readonly Gen<ResolvedAccess> Access = Gen.Select(KeyId, Key, Gen.Enum<AccessMode>(), (id, key, mode) => new ResolvedAccess(id, key, mode));

    private static readonly Gen<PlannedWorkflow> Planned = Gen.Select(Gen.Long, AnyString, ArgsGen, Access.Array[0, 3].Array[0, 4],
        (ts, name, args, accesses) => new PlannedWorkflow(ts, name, args, accesses));

    private static readonly Gen<LeaseEntry> Lease = Gen.Select(KeyId, Key, Worker, Gen.Int[-1, 1023], Gen.Bool,
        (id, key, holder, previous, written) => new LeaseEntry(id, key, holder, previous, written));

    private static readonly Gen<WorkflowOutcome> Outcome = Gen.Select(Gen.Long, Gen.Enum<WorkflowStatus>(), AnyString.Null(), Bytes.Null().Array[0, 4],
        (ts, status, reason, outputs) => new WorkflowOutcome(ts, status, reason, outputs));

    private static readonly Gen<VirtualVertex> Vertex = Gen.Select(KeyId, Key, Gen.Long, Position, AccessIndex,
        (id, key, ts, position, access) => new VirtualVertex(id, key, ts, position, access));

    private static readonly Gen<RegionKey> Region = Gen.Select(Gen.Int, Gen.Int, (node, incarnation) => new RegionKey(node, incarnation));
    private static readonly Gen<int> Slot = Gen.Int[0, int.MaxValue];
    /// <summary>A slot's value: null, empty and non-empty differ on the wire and must stay apart.</summary>
    private static readonly Gen<byte[]?> Value = Gen.Frequency((1, Gen.Const((byte[]?)null)), (1, Gen.Const(() => (byte[]?)[])), (4, Bytes.Select(b => (byte[]?)b)));

    /// <summary>A plan of <paramref name="workflows"/> workflows of 3 functions with 2 accesses each, as a benchmark shape.</summary>
    public static PlanMsg PlanOf(int workflows) => new(7, 1000, new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero),
        Enumerable.Range(0, workflows).Select(i => new PlannedWorkflow(1000 + i, "transfer",
            Args.Create().Set("from", i).Set("to", i + 1).Set("amount", 10).Build(),
            Enumerable.Range(0, 3).Select(f => new[] { new ResolvedAccess(2 * i, new StateKey("accounts", $"a{i}"), AccessMode.ReadWrite), new ResolvedAccess(2 * i + 1, new StateKey("accounts", $"a{i + 1}"), AccessMode.Read) }).ToArray()))
        .ToArray(),
        Enumerable.Range(0, 2 * workflows).Select(k => new LeaseEntry(k, new StateKey("accounts", $"a{k}"), k % 4, (k + 1) % 4, k % 2 == 0)).ToArray());

    /// <summary>Every message type the tests can generate. The round-trip test requires one per row of the wire's table.</summary>
    public static readonly IReadOnlyDictionary<Type, Gen<Message>> ByType = new Dictionary<Type, Gen<Message>>(CausalMessageGenerators.ByType)
    {
        [typeof(PlanMsg)] = Gen.Select(Gen.Long, Gen.Long, Time, Planned.Array[0, 5], Lease.Array[0, 6],
            (batch, first, time, workflows, leases) => (Message)new PlanMsg(batch, first, time, workflows, leases)),
        [typeof(ExecutedMsg)] = Gen.Select(Gen.Long, Outcome.Array[0, 5], (batch, outcomes) => (Message)new ExecutedMsg(batch, outcomes)),
        [typeof(WorkerFailedMsg)] = AnyString.Select(reason => (Message)new WorkerFailedMsg(reason)),
        [typeof(RecordsMsg)] = Gen.Select(Gen.Long, Vertex.Array[0, 8], (batch, vertices) => (Message)new RecordsMsg(batch, vertices)),
        [typeof(GrantMsg)] = Gen.Select(KeyId, Gen.Long, Position, AccessIndex, (id, ts, position, access) => (Message)new GrantMsg(id, ts, position, access)),
        [typeof(ReleasedMsg)] = Gen.Select(KeyId, Gen.Long, Position, Gen.Bool, Gen.Bool, Gen.Bool,
            (id, ts, position, written, tentative, aborted) => (Message)new ReleasedMsg(id, ts, position, new ReleaseNotice(written, tentative, aborted))),
        [typeof(HandedOverMsg)] = KeyId.Select(id => (Message)new HandedOverMsg(id)),
        [typeof(OutcomeMsg)] = Gen.Select(Gen.Long, Gen.Bool, KeyId.Array[0, 8], (ts, committed, keys) => (Message)new OutcomeMsg(ts, committed, keys)),
        [typeof(PeerExecutedMsg)] = Gen.Long.Select(batch => (Message)new PeerExecutedMsg(batch)),
        [typeof(ReadRequest)] = Gen.Select(Region, Slot, (key, slot) => (Message)new ReadRequest(key, slot)),
        [typeof(WriteValueThenFlagRequest)] = Gen.Select(Region, Slot, Value, Gen.Int, (key, slot, value, flag) => (Message)new WriteValueThenFlagRequest(key, slot, value, flag)),
        [typeof(WriteValueRequest)] = Gen.Select(Region, Slot, Value, (key, slot, value) => (Message)new WriteValueRequest(key, slot, value)),
        [typeof(WriteFlagRequest)] = Gen.Select(Region, Slot, Gen.Int, (key, slot, flag) => (Message)new WriteFlagRequest(key, slot, flag)),
        [typeof(CompareAndSwapFlagRequest)] = Gen.Select(Region, Slot, Gen.Int, Gen.Int, (key, slot, expected, desired) => (Message)new CompareAndSwapFlagRequest(key, slot, expected, desired)),
        [typeof(FetchAndAddRequest)] = Gen.Select(Region, Slot, Gen.ULong, (key, slot, delta) => (Message)new FetchAndAddRequest(key, slot, delta)),
        [typeof(SnapshotCompletion)] = Gen.Select(Gen.Int, Value, (flag, value) => (Message)new SnapshotCompletion(flag, value)),
        [typeof(SwappedCompletion)] = Gen.Bool.Select(swapped => (Message)new SwappedCompletion(swapped)),
        [typeof(FetchedCompletion)] = Gen.ULong.Select(before => (Message)new FetchedCompletion(before)),
        [typeof(AckCompletion)] = Gen.Const(() => (Message)new AckCompletion()),
        // The hosts' control plane
        [typeof(JoinMsg)] = Gen.Select(Worker, AnyString, Gen.Int[0, 4].SelectMany(n => Gen.Select(AnyString.Array[n], AnyString.Array[n], (names, prints) => (names, prints)))
            , (worker, process, set) => (Message)new JoinMsg(worker, process, set.names, set.prints)),
        [typeof(JoinRefusedMsg)] = AnyString.Select(reason => (Message)new JoinRefusedMsg(reason)),
        [typeof(StartIncarnationMsg)] = Gen.Select(Gen.Int[0, int.MaxValue], Gen.Long[1, long.MaxValue], AnyString, (number, first, options) => (Message)new StartIncarnationMsg(number, first, options)),
        [typeof(IncarnationStartedMsg)] = Gen.Int[0, int.MaxValue].Select(number => (Message)new IncarnationStartedMsg(number)),
        [typeof(SupersedeMsg)] = Gen.Int[0, int.MaxValue].Select(number => (Message)new SupersedeMsg(number)),
        [typeof(QuietMsg)] = Gen.Int[0, int.MaxValue].Select(number => (Message)new QuietMsg(number)),
        [typeof(ShutdownMsg)] = AnyString.Select(reason => (Message)new ShutdownMsg(reason)),
        [typeof(PeerLostMsg)] = AnyString.Select(reason => (Message)new PeerLostMsg(reason)),
        [typeof(WorkerReportMsg)] = Gen.Select(Gen.Long, Gen.Long, Gen.Long, Gen.Long, Gen.Select(Gen.Long, Gen.Long, Gen.Bool, (e, f, g) => (e, f, g)),
            (a, b, c, d, rest) => (Message)new WorkerReportMsg(a, b, c, d, rest.e, rest.f, rest.g)),
        [typeof(ReportRequestMsg)] = Gen.Bool.Select(_ => (Message)new ReportRequestMsg()),
        [typeof(DescribeMsg)] = Gen.Bool.Select(_ => (Message)new DescribeMsg()), // a fresh one each time: the test stamps it
        [typeof(DescriptionMsg)] = AnyString.Select(s => (Message)new DescriptionMsg(s)),
    };

    /// <summary>Any message, stamped with a sender and an incarnation as a transport would stamp it.</summary>
    public static readonly Gen<Message> Stamped = Gen.Select(
        Gen.OneOf(ByType.Values.ToArray()), Gen.Enum<NodeRole>(), Gen.UShort, Gen.Int[0, int.MaxValue],
        (message, role, index, incarnation) =>
        {
            message.Stamp(new NodeId(role, index), new Incarnation(incarnation));
            return message;
        });
}
