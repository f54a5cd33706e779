using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Scheduling;

namespace Leasehold.Runtime.Hosting;

/// <summary>
/// A cluster of cache servers running causal workflows under one protocol (CausalMesh, a baseline, or
/// the eventual control), as the bench and the tests drive it. Thread-safe; callbacks run on the
/// cluster's client mailbox.
/// </summary>
public interface ICausalRuntime
{
    CausalOptions Options { get; }
    IScheduler Scheduler { get; }

    /// <summary>Registers a causal workflow; throws <see cref="WorkflowDefinitionException"/> naming what is wrong.</summary>
    void Register(WorkflowDefinition workflow);

    /// <summary>Runs a workflow (retrying aborted attempts, where the protocol can abort); the callback gets its result.</summary>
    void Submit(string workflow, Args args, Action<CausalResult> onDone, CausalInvocation? invocation = null);

    Task<CausalResult> InvokeAsync(string workflow, Args args, CausalInvocation? invocation = null);

    /// <summary>Called once per function execution when set (the history recorder).</summary>
    Action<CausalFunctionRecord>? OnFunction { get; set; }

    /// <summary>
    /// Every message from one node to another: server to server, workflow hops, client requests and replies. A send
    /// to oneself (a function whose next one runs on the same server, the ring of a one-server cluster) is local and not counted.
    /// </summary>
    long Messages { get; }

    /// <summary>Messages between servers (and the store) that the protocol itself sends to keep the caches consistent.</summary>
    long RingMessages { get; }

    /// <summary>Modelled busy time of each server (deterministic mode with service times).</summary>
    IReadOnlyList<TimeSpan> ServerBusy { get; }
}
