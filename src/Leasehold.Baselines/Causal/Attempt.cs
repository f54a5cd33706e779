using Leasehold.Runtime.Causal;

namespace Leasehold.Baselines.Causal;

/// <summary>
/// One attempt of a baseline workflow: a transaction over the whole DAG. It holds where the functions
/// run, what they returned, the flows waiting at fan-ins, and the records of its functions, which are
/// reported only once the attempt is decided: committed (Ok) or aborted (not Ok, under an id of its own).
/// </summary>
internal sealed class Attempt(WorkflowDefinition workflow, Args args, long id, int[] placement, CausalInvocation invocation, Action<CausalResult> onDone,
    int aborts, object? session)
{
    private readonly Flow?[] _flows = new Flow?[workflow.Functions.Count];
    private readonly int[] _parentsLeft = workflow.Functions.Select(f => f.Parents.Length).ToArray();
    private int _left = workflow.Functions.Count;
    private bool _finished;

    public WorkflowDefinition Workflow { get; } = workflow;
    public Args Args { get; } = args;
    public long Id { get; } = id;
    public int[] Placement { get; } = placement;
    public CausalInvocation Invocation { get; } = invocation;
    public Action<CausalResult> OnDone { get; } = onDone;
    /// <summary>Attempts of this workflow that aborted before this one.</summary>
    public int Aborts { get; } = aborts;
    /// <summary>The protocol's session state from the caller's token (null: a fresh client).</summary>
    public object? Session { get; } = session;
    public byte[]?[] Outputs { get; } = new byte[]?[workflow.Functions.Count];
    public List<CausalFunctionRecord> Records { get; } = [];
    /// <summary>Protocol scratch of the attempt (hydro-con's snapshot collection); touched on one mailbox only.</summary>
    public object? Scratch { get; set; }

    /// <summary>The servers its functions run on, without repeats, in order.</summary>
    public IEnumerable<int> Servers => Placement.Distinct().Order();

    public bool IsFinished
    {
        get { lock (this) return _finished; }
    }

    public void Record(CausalFunctionRecord record)
    {
        lock (this) Records.Add(record);
    }

    /// <summary>Function <paramref name="index"/> finished with <paramref name="flow"/>: the children now ready, each with its parents' joined flow (or a conflict).</summary>
    public List<(int Child, Flow Flow, string? Conflict)> Finished(int index, Flow flow)
    {
        var ready = new List<(int, Flow, string?)>();
        lock (this)
        {
            _flows[index] = flow;
            _left--;
            foreach (int child in Workflow.Functions[index].Children)
                if (--_parentsLeft[child] == 0)
                {
                    var parents = Workflow.Functions[child].Parents;
                    if (parents.Length == 1) ready.Add((child, _flows[parents[0]]!.Clone(), null));
                    else
                    {
                        var joined = Flow.Join(parents.Select(p => _flows[p]!), out var conflict);
                        ready.Add((child, joined, conflict));
                    }
                }
        }
        return ready;
    }

    /// <summary>True once every function finished: the transaction's whole read and write set.</summary>
    public bool AllDone(out Flow final, out string? conflict)
    {
        lock (this)
        {
            conflict = null;
            final = _left == 0 ? Flow.Join(_flows.Where(f => f is not null)!, out conflict) : null!;
            return _left == 0;
        }
    }

    /// <summary>Marks the attempt decided; false if it already was (another branch aborted or failed first).</summary>
    public bool TryFinish()
    {
        lock (this)
        {
            if (_finished) return false;
            _finished = true;
            return true;
        }
    }
}
