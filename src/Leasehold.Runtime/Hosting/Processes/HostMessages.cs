using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Wire;
using MemoryPack;

namespace Leasehold.Runtime.Hosting.Processes;

// The control plane between the driver process's host and the worker processes' hosts: who joins, which
// incarnation runs, and when one is retired. Hosts live for their process's life (incarnation 0); the
// protocol's own messages travel between the nodes the hosts build.

/// <summary>
/// A worker process asks to join: it runs worker <c>Worker</c> and has deployed these workflows, each named with
/// its fingerprint (<see cref="WorkflowFingerprint"/>). The driver refuses a worker whose set differs from its own.
/// </summary>
[MemoryPackable]
internal sealed partial record JoinMsg(int Worker, string Process, string[] Workflows, string[] Fingerprints) : Message;

/// <summary>The driver refused the worker's join; the worker process stops with this reason.</summary>
[MemoryPackable]
internal sealed partial record JoinRefusedMsg(string Reason) : Message;

/// <summary>
/// Build worker <c>Worker</c>'s node for incarnation <c>Number</c>, starting at batch <c>FirstBatch</c>, with the
/// driver's options (JSON of <c>ClusterOptions</c>): every process of a cluster runs with the driver's.
/// </summary>
[MemoryPackable]
internal sealed partial record StartIncarnationMsg(int Number, long FirstBatch, string Options) : Message;

/// <summary>The worker's node of incarnation <c>Number</c> is registered, its region too: plans may come.</summary>
[MemoryPackable]
internal sealed partial record IncarnationStartedMsg(int Number) : Message;

/// <summary>Retire incarnation <c>Number</c>: fence its region and its store calls, and say when they are quiet.</summary>
[MemoryPackable]
internal sealed partial record SupersedeMsg(int Number) : Message;

/// <summary>No store call of the worker's incarnation <c>Number</c> is running any more.</summary>
[MemoryPackable]
internal sealed partial record QuietMsg(int Number) : Message;

/// <summary>The driver stops the cluster: the worker process retires its node and exits.</summary>
[MemoryPackable]
internal sealed partial record ShutdownMsg(string Reason) : Message;

/// <summary>A worker process lost its link to another worker's process: its batches cannot finish, and no later incarnation can use the pair.</summary>
[MemoryPackable]
internal sealed partial record PeerLostMsg(string Reason) : Message;

/// <summary>The driver asks what a worker process waits for: a cluster stopped answering and the driver names why.</summary>
[MemoryPackable]
internal sealed partial record DescribeMsg : Message;

/// <summary>What the worker process waits for (<see cref="Serializable.Worker.ClusterWorker.Describe"/>) and what its links refused.</summary>
[MemoryPackable]
internal sealed partial record DescriptionMsg(string Text) : Message;

/// <summary>
/// A worker process's counters so far, sent as it shuts down (final) or when the driver asks: the driver's bench reports what only the
/// workers count (their accesses, lease transfers, one-sided operations, and the bytes their links sent).
/// </summary>
[MemoryPackable]
internal sealed partial record WorkerReportMsg(long LocalAccesses, long RemoteAccesses, long LeaseTransfers, long OneSidedOperations, long WireBytesSent, long CpuMicroseconds,
    [property: WireBool] bool Final) : Message;

/// <summary>The driver asks for a worker process's counters now (a <see cref="WorkerReportMsg"/> that is not final): where a measured window starts.</summary>
[MemoryPackable]
internal sealed partial record ReportRequestMsg : Message;
