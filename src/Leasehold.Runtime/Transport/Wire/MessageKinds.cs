using System.Collections.Frozen;
using Leasehold.Runtime.Causal.Messages;
using Leasehold.Runtime.Hosting.Processes;
using Leasehold.Runtime.Serializable.Messages;

namespace Leasehold.Runtime.Transport.Wire;

/// <summary>
/// Every message the wire carries, by kind byte: adding a message type is one line here (and its bounds
/// check in <see cref="BodyChecks"/>). A kind byte is the wire's forever: never renumber one; a retired
/// message leaves its number unused. The round-trip test fails for a row without a generator.
/// </summary>
internal static class MessageKinds
{
    public static readonly IReadOnlyList<MessageKind> All =
    [
        // Driver ↔ worker
        MessageKind.Of<PlanMsg>(1, BodyChecks.Plan),
        MessageKind.Of<ExecutedMsg>(2, BodyChecks.Executed),
        MessageKind.Of<WorkerFailedMsg>(3, BodyChecks.WorkerFailed),
        // Worker ↔ worker
        MessageKind.Of<RecordsMsg>(16, BodyChecks.Records),
        MessageKind.Of<GrantMsg>(17, BodyChecks.Grant),
        MessageKind.Of<ReleasedMsg>(18, BodyChecks.Released),
        MessageKind.Of<HandedOverMsg>(19, BodyChecks.HandedOver),
        MessageKind.Of<OutcomeMsg>(20, BodyChecks.Outcome),
        MessageKind.Of<PeerExecutedMsg>(21, BodyChecks.None),
        // 32–47: a causal workflow's hops between the client and the servers
        MessageKind.Of<StartTransactionMsg>(32, BodyChecks.StartTransaction),
        MessageKind.Of<FunctionHopMsg>(33, BodyChecks.FunctionHop),
        MessageKind.Of<FunctionSkippedMsg>(34, BodyChecks.FunctionSkipped),
        MessageKind.Of<FunctionDoneMsg>(35, BodyChecks.FunctionDone),
        MessageKind.Of<FunctionFailedMsg>(36, BodyChecks.FunctionFailed),
        MessageKind.Of<AttemptAbortedMsg>(37, BodyChecks.None),
        MessageKind.Of<CommitMsg>(38, BodyChecks.Commit),
        MessageKind.Of<TransactionCommittedMsg>(39, BodyChecks.TransactionCommitted),
        MessageKind.Of<CausalHaltMsg>(40, BodyChecks.CausalHalt),
        // 48–63: the ring between cache servers
        MessageKind.Of<RingPropagateMsg>(48, BodyChecks.RingPropagate),
        MessageKind.Of<RingStableMsg>(49, BodyChecks.RingStable),
        MessageKind.Of<EventualPropagateMsg>(50, BodyChecks.EventualPropagate),
        // 64–79: one-sided operations
        MessageKind.Of<ReadRequest>(64, OneSidedChecks.Read),
        MessageKind.Of<WriteValueThenFlagRequest>(65, OneSidedChecks.WriteValueThenFlag),
        MessageKind.Of<WriteValueRequest>(66, OneSidedChecks.WriteValue),
        MessageKind.Of<WriteFlagRequest>(67, OneSidedChecks.WriteFlag),
        MessageKind.Of<CompareAndSwapFlagRequest>(68, OneSidedChecks.CompareAndSwapFlag),
        MessageKind.Of<FetchAndAddRequest>(69, OneSidedChecks.FetchAndAdd),
        // 80–95: their completions
        MessageKind.Of<SnapshotCompletion>(80, OneSidedChecks.Snapshot),
        MessageKind.Of<SwappedCompletion>(81, BodyChecks.None),
        MessageKind.Of<FetchedCompletion>(82, BodyChecks.None),
        MessageKind.Of<AckCompletion>(83, BodyChecks.None),
        // 96–111: the hosts' control plane (who joins, which incarnation runs)
        MessageKind.Of<JoinMsg>(96, BodyChecks.Join),
        MessageKind.Of<JoinRefusedMsg>(97, BodyChecks.JoinRefused),
        MessageKind.Of<StartIncarnationMsg>(98, BodyChecks.StartIncarnation),
        MessageKind.Of<IncarnationStartedMsg>(99, static (m, _) => BodyChecks.Incarnation(m.Number, "IncarnationStartedMsg.Number")),
        MessageKind.Of<SupersedeMsg>(100, static (m, _) => BodyChecks.Incarnation(m.Number, "SupersedeMsg.Number")),
        MessageKind.Of<QuietMsg>(101, static (m, _) => BodyChecks.Incarnation(m.Number, "QuietMsg.Number")),
        MessageKind.Of<ShutdownMsg>(102, BodyChecks.Shutdown),
        MessageKind.Of<PeerLostMsg>(103, static (m, l) => BodyChecks.Reason(m.Reason, "PeerLostMsg.Reason", l)),
        MessageKind.Of<WorkerReportMsg>(104, BodyChecks.None),
        MessageKind.Of<DescribeMsg>(105, BodyChecks.None),
        MessageKind.Of<DescriptionMsg>(106, static (m, l) => BodyChecks.Reason(m.Text, "DescriptionMsg.Text", l)),
        MessageKind.Of<ReportRequestMsg>(107, BodyChecks.None),
    ];

    private static readonly MessageKind?[] ByKind = Index(All);
    private static readonly FrozenDictionary<Type, MessageKind> ByType = All.ToFrozenDictionary(k => k.Type);

    public static MessageKind? Find(byte kind) => ByKind[kind];

    public static MessageKind Of(Message message) =>
        ByType.TryGetValue(message.GetType(), out var kind)
            ? kind
            : throw new InvalidOperationException($"{message.GetType().Name} has no kind in the wire's message table (Transport/Wire/MessageKinds.cs)");

    private static MessageKind?[] Index(IReadOnlyList<MessageKind> kinds)
    {
        var byKind = new MessageKind?[256];
        foreach (var kind in kinds)
        {
            if (byKind[kind.Kind] is { } taken) throw new InvalidOperationException($"kind {kind.Kind} is both {taken.Type.Name} and {kind.Type.Name}");
            byKind[kind.Kind] = kind;
        }
        return byKind;
    }
}
