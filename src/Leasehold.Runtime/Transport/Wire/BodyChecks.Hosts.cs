using Leasehold.Runtime.Hosting.Processes;

namespace Leasehold.Runtime.Transport.Wire;

/// <summary>Bounds of the hosts' control messages (Hosting/Processes/HostMessages.cs).</summary>
internal static partial class BodyChecks
{
    /// <summary>A deployment may hold many workflows, but not more than a plan could name.</summary>
    private const int MaxDeployedWorkflows = 1 << 16;

    public static WireRefusal? Join(JoinMsg m, WireLimits l)
    {
        if (!IsWorker(m.Worker, l)) return WireRefusal.FieldOutOfBounds("JoinMsg.Worker");
        if (String(m.Process, "JoinMsg.Process", l) is { } badProcess) return badProcess;
        if ((Array(m.Workflows, "JoinMsg.Workflows", MaxDeployedWorkflows) ?? Array(m.Fingerprints, "JoinMsg.Fingerprints", MaxDeployedWorkflows)) is { } badArray) return badArray;
        if (m.Workflows.Length != m.Fingerprints.Length) return WireRefusal.FieldOutOfBounds("JoinMsg.Fingerprints: one per workflow");
        foreach (var w in m.Workflows)
            if (String(w, "JoinMsg.Workflows[]", l) is { } bad) return bad;
        foreach (var f in m.Fingerprints)
            if (String(f, "JoinMsg.Fingerprints[]", l) is { } bad) return bad;
        return null;
    }

    public static WireRefusal? JoinRefused(JoinRefusedMsg m, WireLimits l) => String(m.Reason, "JoinRefusedMsg.Reason", l);

    public static WireRefusal? StartIncarnation(StartIncarnationMsg m, WireLimits l)
    {
        if (m.Number < 0) return WireRefusal.FieldOutOfBounds("StartIncarnationMsg.Number");
        if (m.FirstBatch < 1) return WireRefusal.FieldOutOfBounds("StartIncarnationMsg.FirstBatch");
        return String(m.Options, "StartIncarnationMsg.Options", l);
    }

    public static WireRefusal? Incarnation(int number, string field) => number < 0 ? WireRefusal.FieldOutOfBounds(field) : null;

    public static WireRefusal? Reason(string reason, string field, WireLimits l) => String(reason, field, l);

    public static WireRefusal? Shutdown(ShutdownMsg m, WireLimits l) => String(m.Reason, "ShutdownMsg.Reason", l);
}
