namespace Leasehold.Runtime.Causal.Workflows;

/// <summary>
/// One attempt of a causal workflow, as every causal protocol (CausalMesh's engine, the baselines) tracks
/// it: the request (workflow, arguments, placement, invocation, callback), what the functions returned, and
/// the DAG's progress — the state each finished function handed on, which children are ready, when all are
/// done, and whether the attempt already ended. <typeparamref name="TState"/> is what travels along the
/// edges (CausalMesh's session, a baseline's flow); the protocol says how states join at a fan-in.
/// Thread-safe, for the baselines, whose branches finish on different servers' mailboxes (CausalMesh's attempts
/// live on the client node alone).
/// </summary>
internal abstract class WorkflowAttempt<TState>(WorkflowDefinition workflow, Args args, long id, int[] placement, CausalInvocation invocation,
    Action<CausalResult> onDone, int aborts) where TState : class
{
    private readonly TState?[] _states = new TState?[workflow.Functions.Count];
    private readonly int[] _parentsLeft = workflow.Functions.Select(f => f.Parents.Length).ToArray();
    private int _left = workflow.Functions.Count;
    private bool _finished;

    public WorkflowDefinition Workflow { get; } = workflow;
    public Args Args { get; } = args;
    public long Id { get; } = id;
    public int[] Placement { get; } = placement;
    public CausalInvocation Invocation { get; } = invocation;
    public Action<CausalResult> OnDone { get; } = onDone;
    /// <summary>How many attempts of this workflow aborted before this one.</summary>
    public int Aborts { get; } = aborts;
    public byte[]?[] Outputs { get; } = new byte[]?[workflow.Functions.Count];

    public bool IsFinished
    {
        get { lock (this) return _finished; }
    }

    /// <summary>
    /// Function <paramref name="index"/> finished with <paramref name="state"/>: the children whose parents
    /// are all done, each with its parents' states joined by <paramref name="join"/> (under the attempt's lock).
    /// </summary>
    protected List<(int Child, TJoined Joined)> Finished<TJoined>(int index, TState state, Func<IReadOnlyList<TState>, TJoined> join)
    {
        var ready = new List<(int, TJoined)>();
        lock (this)
        {
            _states[index] = state;
            _left--;
            foreach (int child in Workflow.Functions[index].Children)
                if (--_parentsLeft[child] == 0)
                    ready.Add((child, join([.. Workflow.Functions[child].Parents.Select(p => _states[p]!)])));
        }
        return ready;
    }

    /// <summary>True once every function finished; <paramref name="final"/> joins all their states.</summary>
    protected bool AllDone<TJoined>(Func<IReadOnlyList<TState>, TJoined> join, out TJoined final)
    {
        lock (this)
        {
            final = _left == 0 ? join(FinishedStates()) : default!;
            return _left == 0;
        }
    }

    /// <summary>The states of the functions finished so far, in function order.</summary>
    protected IReadOnlyList<TState> FinishedStates()
    {
        lock (this) return [.. _states.Where(s => s is not null)!];
    }

    /// <summary>Ends the attempt unless another branch already did; true when this call ended it.</summary>
    public bool TryEnd()
    {
        lock (this)
        {
            if (_finished) return false;
            _finished = true;
            return true;
        }
    }
}
