namespace Leasehold.Checkers.Causal;

/// <summary>What a causal-order edge is, when it is not reads-from (a reads-from edge's label is the read's op index, ≥ 0).</summary>
internal static class EdgeLabel
{
    /// <summary>From one node of a function to its next (the function's ops run in order).</summary>
    public const int ProgramOrder = -1;
    /// <summary>From a parent function's last node to its child's first.</summary>
    public const int Parent = -2;
    /// <summary>From a function's last node to its workflow's end-of-workflow node.</summary>
    public const int IntoBarrier = -3;
    /// <summary>From a workflow's end-of-workflow node to a root function of the process's next workflow.</summary>
    public const int OutOfBarrier = -4;
    /// <summary>From a transaction's function's last node to the transaction's commit node.</summary>
    public const int IntoCommit = -5;
}

/// <summary>How a read is attributed (its entry in <see cref="CausalGraph.ReadSource"/>, when not a committed write's id).</summary>
internal static class ReadSource
{
    /// <summary>It read the key's initial value.</summary>
    public const int Init = -1;
    /// <summary>Nobody wrote the value it read.</summary>
    public const int ThinAir = -2;
    /// <summary>An aborted workflow wrote the value it read.</summary>
    public const int Aborted = -3;
    /// <summary>Not an op to check: a write, or a read of an aborted workflow.</summary>
    public const int None = -4;
    /// <summary>Another workflow read a write that its read-write transaction overwrote before committing (never visible).</summary>
    public const int Intermediate = -5;
}

/// <summary>
/// The causal-order graph. Its nodes are runs of a function's ops: some reads followed by one write, or the
/// reads after the function's last write (one empty node for a function without ops). Splitting at writes
/// makes nodes exact for causal order: every edge into a node reaches its one write, and every edge out
/// leaves from that write or its last op, so a cycle of nodes is a cycle of ops. (Whole functions as nodes
/// would turn two sessions that each write and then read the other's write — valid — into a cycle.)
/// After them come end-of-workflow nodes ("barriers"), one per workflow followed by another of its
/// process: every function of seq n precedes every root function of seq n + 1 through it, in a linear
/// number of edges. Last come commit nodes, one per committed read-write transaction T: every function of T
/// leads to it, and it is the one way out of T: other workflows read T's writes from it and T's session
/// successor follows it, so for everyone else T's writes are one event that has T's whole snapshot (every read
/// of T, in every function) in its past. Inside T, reads of T's own writes keep their edge from the write.
/// <para>
/// Nodes are decomposed into chains, each totally ordered by session order: per process, lanes assigned
/// greedily along each workflow's DAG (a function takes the lane of a parent that is last on it, else a lane
/// whose last function is in an earlier workflow, else a fresh one), so chains = processes × the widest
/// workflow. Each write has a position on its chain (1, 2, …): vector clocks over chains count writes.
/// </para>
/// </summary>
internal sealed class CausalGraph
{
    public required int OpNodes { get; init; }
    public required int Nodes { get; init; }
    public required int Chains { get; init; }

    public required int[] NodeFunction { get; init; }
    public required int[] NodeFirstOp { get; init; }
    /// <summary>One past the node's last op.</summary>
    public required int[] NodeEndOp { get; init; }
    /// <summary>The node's write (a committed write id), or −1 for reads only.</summary>
    public required int[] NodeWrite { get; init; }
    /// <summary>The workflow of each barrier node (index: node − <see cref="OpNodes"/>).</summary>
    public required int[] BarrierWorkflow { get; init; }
    /// <summary>The first commit node: barriers are [<see cref="OpNodes"/>, this), commit nodes [this, <see cref="Nodes"/>).</summary>
    public required int CommitNodes { get; init; }
    /// <summary>The workflow of each commit node (index: node − <see cref="CommitNodes"/>).</summary>
    public required int[] CommitWorkflow { get; init; }
    /// <summary>Per workflow: its commit node if it is a committed read-write transaction, else −1.</summary>
    public required int[] WorkflowCommit { get; init; }
    /// <summary>The chain of each node's function (−1 for a barrier).</summary>
    public required int[] NodeChain { get; init; }

    /// <summary>Committed functions' first node (−1 for an aborted workflow's function).</summary>
    public required int[] FunctionFirstNode { get; init; }
    public required int[] FunctionNodeCount { get; init; }

    public required int[] WriteOp { get; init; }
    public required int[] WriteNode { get; init; }
    public required int[] WriteChain { get; init; }
    /// <summary>1-based position on its chain among the chain's writes.</summary>
    public required int[] WritePos { get; init; }
    /// <summary>The workflow of each write.</summary>
    public required int[] WriteWorkflow { get; init; }
    /// <summary>Per (transaction, key): the write of it that commits (see <see cref="TransactionFinalWrites"/>).</summary>
    public required Dictionary<(int Workflow, int Key), int> FinalWrites { get; init; }
    /// <summary>Per op: the committed write id of a write op, else −1.</summary>
    public required int[] OpWrite { get; init; }
    /// <summary>Per op: for a read, its committed write id or a <see cref="Causal.ReadSource"/> value.</summary>
    public required int[] ReadSource { get; init; }
    /// <summary>The process each chain belongs to.</summary>
    public required long[] ChainProcess { get; init; }

    /// <summary>Session order and reads-from.</summary>
    public required Csr Co { get; init; }

    public bool IsBarrier(int node) => node >= OpNodes && node < CommitNodes;

    public bool IsCommit(int node) => node >= CommitNodes;

    /// <summary>A node of a function's ops (not a barrier or commit).</summary>
    public bool IsOpNode(int node) => node < OpNodes;

    /// <summary>The transaction (workflow) whose commit makes the write visible, or −1 for a write of a plain workflow.</summary>
    public int TransactionOf(int write) => WorkflowCommit[WriteWorkflow[write]] >= 0 ? WriteWorkflow[write] : -1;

    /// <summary>The write's final write id for (transaction, key), or −1 when the transaction did not write the key.</summary>
    public int FinalWrite(int transaction, int key) => FinalWrites.GetValueOrDefault((transaction, key), -1);

    /// <summary>
    /// Where the write happens for other workflows: its transaction's commit node, or its own node. Conflict edges
    /// join these, so a transaction is one event in conflict order too.
    /// </summary>
    public int EventNode(int write) => TransactionOf(write) is >= 0 and var t ? WorkflowCommit[t] : WriteNode[write];

    public int Writes => WriteOp.Length;
}
