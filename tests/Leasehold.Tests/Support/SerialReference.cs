using Leasehold.Runtime.Serializable;

namespace Leasehold.Tests.Support;

/// <summary>
/// The oracle: runs requests one at a time, in timestamp order, on a plain dictionary, judging bodies
/// exactly as the engine does. Whatever the engine does concurrently must match this.
/// </summary>
public sealed class SerialReference
{
    private readonly Dictionary<StateKey, byte[]?> _state = [];
    private readonly TimeProvider _time;

    public SerialReference(IEnumerable<KeyValuePair<StateKey, byte[]>> initial, TimeProvider? time = null)
    {
        foreach (var (k, v) in initial) _state[k] = v;
        _time = time ?? TimeProvider.System;
    }

    public IReadOnlyDictionary<StateKey, byte[]?> State => _state;

    public byte[]? Get(StateKey key) => _state.GetValueOrDefault(key);

    public WorkflowResult Execute(WorkflowDefinition workflow, Args args, long ts, DateTimeOffset batchTime, TimeSpan? limit = null)
    {
        var ids = new Dictionary<StateKey, int>();
        var accesses = AccessResolver.Resolve(workflow, args, k => ids.TryGetValue(k, out int id) ? id : ids[k] = ids.Count, out var error);
        if (accesses is null) return new WorkflowResult(WorkflowStatus.Failed, -1, error, [], workflow);
        var outputs = new byte[]?[workflow.Functions.Count];
        var overlay = new Dictionary<StateKey, byte[]?>();
        foreach (var function in workflow.Functions)
        {
            var mine = accesses[function.Index];
            var values = new byte[]?[mine.Length];
            for (int a = 0; a < mine.Length; a++)
                values[a] = overlay.TryGetValue(mine[a].Key, out var v) ? v : _state.GetValueOrDefault(mine[a].Key);
            var context = new OperationContext(workflow, function, args, ts, batchTime, mine, values, outputs);
            var outcome = FunctionRunner.Run(context, function, _time, limit ?? TimeSpan.MaxValue);
            if (!outcome.Succeeded) return new WorkflowResult(outcome.Status, ts, outcome.Reason, outputs, workflow);
            outputs[function.Index] = outcome.Output;
            if (outcome.Writes is { } writes)
                for (int a = 0; a < mine.Length; a++)
                    if (writes.Written[a]) overlay[mine[a].Key] = writes.Values[a];
        }
        foreach (var (k, v) in overlay) _state[k] = v;
        return new WorkflowResult(WorkflowStatus.Committed, ts, null, outputs, workflow);
    }
}
