using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Serializable.Worker;

namespace Leasehold.Runtime.Transport.Wire;

/// <summary>
/// The bounds each decoded message must keep: no null where the record has none, array lengths and string
/// lengths within <see cref="WireLimits"/>, indexes and worker ids in range. What only the receiver can
/// know (an access index below the function's access count, a batch it is running) is the receiver's check.
/// </summary>
internal static partial class BodyChecks
{
    public static WireRefusal? None<T>(T message, WireLimits limits) => null;

    public static WireRefusal? Plan(PlanMsg m, WireLimits l)
    {
        if (Array(m.Workflows, "PlanMsg.Workflows", l.MaxWorkflowsPerBatch) is { } bad) return bad;
        foreach (var w in m.Workflows)
        {
            if (w is null) return Null("PlanMsg.Workflows[]");
            if ((String(w.Workflow, "PlannedWorkflow.Workflow", l) ?? Args(w.Args, l)) is { } badWorkflow) return badWorkflow;
            if (Array(w.Accesses, "PlannedWorkflow.Accesses", l.MaxFunctionsPerWorkflow) is { } badAccesses) return badAccesses;
            foreach (var function in w.Accesses)
            {
                if (Array(function, "PlannedWorkflow.Accesses[]", l.MaxAccessesPerFunction) is { } badFunction) return badFunction;
                foreach (var access in function)
                    if ((KeyId(access.KeyId, "ResolvedAccess.KeyId") ?? Key(access.Key, l)) is { } badAccess) return badAccess;
            }
        }
        if (Array(m.Leases, "PlanMsg.Leases", l.MaxKeysPerBatch) is { } badLeases) return badLeases;
        foreach (var lease in m.Leases)
        {
            if ((KeyId(lease.KeyId, "LeaseEntry.KeyId") ?? Key(lease.Key, l)) is { } badLease) return badLease;
            if (!IsWorker(lease.Holder, l)) return WireRefusal.FieldOutOfBounds("LeaseEntry.Holder");
            if (lease.PreviousHolder != -1 && !IsWorker(lease.PreviousHolder, l)) return WireRefusal.FieldOutOfBounds("LeaseEntry.PreviousHolder");
        }
        return null;
    }

    public static WireRefusal? Executed(ExecutedMsg m, WireLimits l)
    {
        if (Array(m.Outcomes, "ExecutedMsg.Outcomes", l.MaxWorkflowsPerBatch) is { } bad) return bad;
        foreach (var outcome in m.Outcomes)
        {
            if (outcome is null) return Null("ExecutedMsg.Outcomes[]");
            if (outcome.Reason is not null && String(outcome.Reason, "WorkflowOutcome.Reason", l) is { } badReason) return badReason;
            if (Array(outcome.Outputs, "WorkflowOutcome.Outputs", l.MaxFunctionsPerWorkflow) is { } badOutputs) return badOutputs;
            foreach (var output in outcome.Outputs)
                if (output is not null && output.Length > l.MaxValueBytes) return WireRefusal.FieldOutOfBounds("WorkflowOutcome.Outputs[]");
        }
        return null;
    }

    public static WireRefusal? WorkerFailed(WorkerFailedMsg m, WireLimits l) => String(m.Reason, "WorkerFailedMsg.Reason", l);

    public static WireRefusal? Records(RecordsMsg m, WireLimits l)
    {
        if (Array(m.Vertices, "RecordsMsg.Vertices", l.MaxKeysPerBatch) is { } bad) return bad;
        foreach (var v in m.Vertices)
            if ((Vertex(v.KeyId, v.Position, v.AccessIndex, l) ?? Key(v.Key, l)) is { } badVertex) return badVertex;
        return null;
    }

    public static WireRefusal? Grant(GrantMsg m, WireLimits l) => Vertex(m.KeyId, m.Position, m.AccessIndex, l);

    public static WireRefusal? Released(ReleasedMsg m, WireLimits l) => KeyId(m.KeyId, "ReleasedMsg.KeyId") ?? Position(m.Position);

    public static WireRefusal? HandedOver(HandedOverMsg m, WireLimits l) => KeyId(m.KeyId, "HandedOverMsg.KeyId");

    public static WireRefusal? Outcome(OutcomeMsg m, WireLimits l)
    {
        if (Array(m.KeyIds, "OutcomeMsg.KeyIds", l.MaxKeysPerBatch) is { } bad) return bad;
        foreach (int keyId in m.KeyIds)
            if (KeyId(keyId, "OutcomeMsg.KeyIds[]") is { } badKey) return badKey;
        return null;
    }

    private static WireRefusal? Vertex(int keyId, int position, int accessIndex, WireLimits l) =>
        KeyId(keyId, "KeyId") ?? Position(position)
        ?? (accessIndex < 0 || accessIndex >= l.MaxAccessesPerFunction ? WireRefusal.FieldOutOfBounds("AccessIndex") : null);

    private static WireRefusal? Position(int position) => position < 0 ? WireRefusal.FieldOutOfBounds("Position") : null;

    private static WireRefusal? KeyId(int keyId, string field) => keyId < 0 ? WireRefusal.FieldOutOfBounds(field) : null;

    private static bool IsWorker(int index, WireLimits l) => index >= 0 && index < l.MaxWorkers;

    private static WireRefusal? Key(StateKey key, WireLimits l) =>
        String(key.Table, "StateKey.Table", l) ?? String(key.Key, "StateKey.Key", l);

    private static WireRefusal? Args(Args? args, WireLimits l)
    {
        if (args is null) return Null("PlannedWorkflow.Args");
        for (int i = 0; i < args.Count; i++)
        {
            if (String(args.NameAt(i), "Args name", l) is { } badName) return badName;
            switch (args.StoredValueAt(i))
            {
                case string s when s.Length > l.MaxStringChars: return WireRefusal.FieldOutOfBounds($"Args '{args.NameAt(i)}'");
                case byte[] b when b.Length > l.MaxValueBytes: return WireRefusal.FieldOutOfBounds($"Args '{args.NameAt(i)}'");
            }
        }
        return null;
    }

    private static WireRefusal? String(string? value, string field, WireLimits l) =>
        value is null ? Null(field) : value.Length > l.MaxStringChars ? WireRefusal.FieldOutOfBounds(field) : null;

    private static WireRefusal? Array<T>(T[]? array, string field, int max) =>
        array is null ? Null(field) : array.Length > max ? WireRefusal.FieldOutOfBounds(field) : null;

    private static WireRefusal Null(string field) => WireRefusal.Malformed($"{field} is null");
}
