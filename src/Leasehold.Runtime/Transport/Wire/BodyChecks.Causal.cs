using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Messages;

namespace Leasehold.Runtime.Transport.Wire;

// The causal runtime's messages. Clock sizes and the consistency of clocks within one version or session are
// checked while decoding (CausalFormatters); here: strings, values and arrays within the limits, and every
// index (function, parent, server, head, tail, lap) in its range.
internal static partial class BodyChecks
{
    public static WireRefusal? StartTransaction(StartTransactionMsg m, WireLimits l)
    {
        if (m.First is null) return Null("StartTransactionMsg.First");
        if (Call(m.First, l) is { } bad) return bad;
        if ((Array(m.OtherRoots, "StartTransactionMsg.OtherRoots", l.MaxFunctionsPerWorkflow) ?? Array(m.OtherServers, "StartTransactionMsg.OtherServers", l.MaxFunctionsPerWorkflow)) is { } badArray) return badArray;
        if (m.OtherRoots.Length != m.OtherServers.Length) return WireRefusal.FieldOutOfBounds("StartTransactionMsg.OtherServers: one per other root");
        foreach (int root in m.OtherRoots)
            if (!IsIndex(root, m.First.Placement.Length)) return WireRefusal.FieldOutOfBounds("StartTransactionMsg.OtherRoots[]");
        foreach (int server in m.OtherServers)
            if (!IsIndex(server, l.MaxServers)) return WireRefusal.FieldOutOfBounds("StartTransactionMsg.OtherServers[]");
        return null;
    }

    public static WireRefusal? FunctionHop(FunctionHopMsg m, WireLimits l)
    {
        if (m.Call is null) return Null("FunctionHopMsg.Call");
        return Call(m.Call, l) ?? (m.Parent == -1 || IsIndex(m.Parent, m.Call.Placement.Length) ? null : WireRefusal.FieldOutOfBounds("FunctionHopMsg.Parent"));
    }

    public static WireRefusal? FunctionSkipped(FunctionSkippedMsg m, WireLimits l)
    {
        if ((String(m.Workflow, "FunctionSkippedMsg.Workflow", l) ?? Placement(m.Placement, "FunctionSkippedMsg.Placement", l)) is { } bad) return bad;
        if (!IsIndex(m.Function, m.Placement.Length)) return WireRefusal.FieldOutOfBounds("FunctionSkippedMsg.Function");
        return IsIndex(m.Parent, m.Placement.Length) ? null : WireRefusal.FieldOutOfBounds("FunctionSkippedMsg.Parent");
    }

    public static WireRefusal? FunctionDone(FunctionDoneMsg m, WireLimits l) =>
        Function(m.Function, "FunctionDoneMsg.Function", l) ?? Session(m.Session, "FunctionDoneMsg.Session", l)
        ?? Value(m.Output, "FunctionDoneMsg.Output", l) ?? Record(m.Record, l);

    public static WireRefusal? FunctionFailed(FunctionFailedMsg m, WireLimits l) =>
        Function(m.Function, "FunctionFailedMsg.Function", l) ?? Session(m.Session, "FunctionFailedMsg.Session", l)
        ?? String(m.Reason, "FunctionFailedMsg.Reason", l) ?? Record(m.Record, l);

    public static WireRefusal? Commit(CommitMsg m, WireLimits l) => Session(m.Final, "CommitMsg.Final", l);

    public static WireRefusal? TransactionCommitted(TransactionCommittedMsg m, WireLimits l) => Session(m.Final, "TransactionCommittedMsg.Final", l);

    public static WireRefusal? CausalHalt(CausalHaltMsg m, WireLimits l) => String(m.Reason, "CausalHaltMsg.Reason", l);

    public static WireRefusal? RingPropagate(RingPropagateMsg m, WireLimits l)
    {
        var p = m.Propagation;
        if ((Key(p.Key, l) ?? Version(p.Version, "Propagation.Version", l)) is { } bad) return bad;
        if (!IsIndex(p.Head, p.Version.Clock.Count)) return WireRefusal.FieldOutOfBounds("Propagation.Head");
        if (p.Lap is not (1 or 2)) return WireRefusal.FieldOutOfBounds("Propagation.Lap");
        if (p.Siblings is null) return null;
        if (p.Siblings.Length > l.MaxKeysPerBatch) return WireRefusal.FieldOutOfBounds("Propagation.Siblings");
        foreach (var (key, version) in p.Siblings)
            if ((Key(key, l) ?? Version(version, "Propagation.Siblings[]", l)) is { } badSibling) return badSibling;
        return null;
    }

    public static WireRefusal? RingStable(RingStableMsg m, WireLimits l)
    {
        var n = m.Notice;
        if (Key(n.Key, l) is { } bad) return bad;
        if (!IsIndex(n.Head, n.Clock.Count)) return WireRefusal.FieldOutOfBounds("StableNotice.Head");
        return IsIndex(n.Tail, n.Clock.Count) ? null : WireRefusal.FieldOutOfBounds("StableNotice.Tail");
    }

    public static WireRefusal? EventualPropagate(EventualPropagateMsg m, WireLimits l)
    {
        if (m.Version is null) return Null("EventualPropagateMsg.Version");
        if ((Key(m.Key, l) ?? Version(m.Version, "EventualPropagateMsg.Version", l)) is { } bad) return bad;
        return IsIndex(m.Head, m.Version.Clock.Count) ? null : WireRefusal.FieldOutOfBounds("EventualPropagateMsg.Head");
    }

    private static WireRefusal? Call(FunctionCall c, WireLimits l)
    {
        if ((String(c.Workflow, "FunctionCall.Workflow", l) ?? Args(c.Args, l) ?? Placement(c.Placement, "FunctionCall.Placement", l)) is { } bad) return bad;
        if (!IsIndex(c.Function, c.Placement.Length)) return WireRefusal.FieldOutOfBounds("FunctionCall.Function");
        if (Array(c.ParentOutputs, "FunctionCall.ParentOutputs", l.MaxFunctionsPerWorkflow) is { } badOutputs) return badOutputs;
        if (c.ParentOutputs.Length != c.Placement.Length) return WireRefusal.FieldOutOfBounds("FunctionCall.ParentOutputs: one per function");
        foreach (var output in c.ParentOutputs)
            if (Value(output, "FunctionCall.ParentOutputs[]", l) is { } badOutput) return badOutput;
        return Session(c.Session, "FunctionCall.Session", l);
    }

    /// <summary>Where each function of a workflow runs: one server index per function.</summary>
    private static WireRefusal? Placement(int[]? placement, string field, WireLimits l)
    {
        if (Array(placement, field, l.MaxFunctionsPerWorkflow) is { } bad) return bad;
        foreach (int server in placement!)
            if (!IsIndex(server, l.MaxServers)) return WireRefusal.FieldOutOfBounds($"{field}[]");
        return null;
    }

    private static WireRefusal? Session(SessionData? s, string field, WireLimits l)
    {
        if (s is null) return Null(field);
        if (s.Deps is null || s.Local is null) return Null($"{field} part");
        if (s.Deps.Length + s.Local.Length + (s.Pending?.Length ?? 0) > l.MaxKeysPerBatch) return WireRefusal.FieldOutOfBounds($"{field}: keys");
        foreach (var (key, _) in s.Deps)
            if (Key(key, l) is { } bad) return bad;
        foreach (var (key, version) in s.Local)
            if ((Key(key, l) ?? Version(version, $"{field}.Local", l)) is { } bad) return bad;
        if (s.Pending is not null)
            foreach (var (key, value, _) in s.Pending)
                if ((Key(key, l) ?? Value(value, $"{field}.Pending", l)) is { } bad) return bad;
        return null;
    }

    private static WireRefusal? Version(CausalVersion version, string field, WireLimits l)
    {
        if (Value(version.Value, $"{field}.Value", l) is { } bad) return bad;
        if (version.Deps.Count > l.MaxKeysPerBatch) return WireRefusal.FieldOutOfBounds($"{field}.Deps");
        foreach (var key in version.Deps.Keys)
            if (Key(key, l) is { } badKey) return badKey;
        return null;
    }

    private static WireRefusal? Record(FunctionRecordData? r, WireLimits l)
    {
        if (r is null) return null;
        if (!IsIndex(r.Function, l.MaxFunctionsPerWorkflow)) return WireRefusal.FieldOutOfBounds("FunctionRecordData.Function");
        if (!IsIndex(r.Server, l.MaxServers)) return WireRefusal.FieldOutOfBounds("FunctionRecordData.Server");
        if (Array(r.Parents, "FunctionRecordData.Parents", l.MaxFunctionsPerWorkflow) is { } bad) return bad;
        foreach (int parent in r.Parents)
            if (!IsIndex(parent, l.MaxFunctionsPerWorkflow)) return WireRefusal.FieldOutOfBounds("FunctionRecordData.Parents[]");
        if (Array(r.Ops, "FunctionRecordData.Ops", l.MaxKeysPerBatch) is { } badOps) return badOps;
        foreach (var op in r.Ops)
            if ((Key(op.Key, l) ?? Value(op.Value, "CausalOp.Value", l)) is { } badOp) return badOp;
        return null;
    }

    private static WireRefusal? Function(int function, string field, WireLimits l) =>
        IsIndex(function, l.MaxFunctionsPerWorkflow) ? null : WireRefusal.FieldOutOfBounds(field);

    private static WireRefusal? Value(byte[]? value, string field, WireLimits l) =>
        value is not null && value.Length > l.MaxValueBytes ? WireRefusal.FieldOutOfBounds(field) : null;

    private static bool IsIndex(int index, int count) => index >= 0 && index < count;
}
