using Leasehold.Checkers.Histories;

namespace Leasehold.Checkers.Causal;

/// <summary>
/// Reads a causal history once into a <see cref="CausalModel"/>, refusing (with a
/// <see cref="HistoryFormatException"/> naming the line) what cannot be checked: a workflow whose records
/// disagree on its process, seq or transaction flag, two workflows in one session place, a function recorded twice, and a
/// value written twice to one key (reads could not be attributed to one write).
/// </summary>
internal static class CausalModelLoader
{
    public static CausalModel Load(IEnumerable<CausalRecord> records)
    {
        var keyIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var keys = new List<string>();
        var ops = new List<OpInfo>();
        var opFunction = new List<int>();
        var workflows = new List<WorkflowInfo>();
        var workflowIds = new Dictionary<long, int>();
        var places = new Dictionary<(long Process, long Seq), int>();
        var functions = new List<FunctionInfo>();
        var writers = new Dictionary<(int Key, long Value), int>();
        long recorded = 0;

        foreach (var r in records)
        {
            recorded++;
            if (!workflowIds.TryGetValue(r.Workflow, out int wf))
            {
                if (places.TryGetValue((r.Process, r.Seq), out int other))
                    throw new HistoryFormatException(r.Line, $"workflow {r.Workflow} is process {r.Process}'s seq {r.Seq}, but so is workflow {workflows[other].Id} (line {workflows[other].Line}): a process issues one workflow per seq");
                wf = workflows.Count;
                workflows.Add(new WorkflowInfo(r.Workflow, r.Process, r.Seq) { Line = r.Line, Transaction = r.Transaction });
                workflowIds.Add(r.Workflow, wf);
                places.Add((r.Process, r.Seq), wf);
            }
            var w = workflows[wf];
            if (w.Process != r.Process || w.Seq != r.Seq)
                throw new HistoryFormatException(r.Line, $"workflow {r.Workflow} is process {r.Process} seq {r.Seq} here but process {w.Process} seq {w.Seq} at line {w.Line}");
            // A transaction is a property of the whole workflow: one snapshot, one commit. Half of one cannot be checked.
            if (w.Transaction != r.Transaction)
                throw new HistoryFormatException(r.Line, $"function {r.Function} of workflow {r.Workflow} has \"txn\":{(r.Transaction ? "true" : "false")} but its record at line {w.Line} has \"txn\":{(w.Transaction ? "true" : "false")}: every function of a workflow agrees on whether it is a read-write transaction");
            int id = functions.Count;
            var f = new FunctionInfo(wf, r.Function)
            {
                Recorded = true, Ok = r.Ok, Server = r.Server, Line = r.Line, LocalParents = r.Parents, FirstOp = ops.Count, OpCount = r.Ops.Length,
            };
            functions.Add(f);
            w.Functions.Add(id);
            if (!r.Ok) w.Aborted = true;
            for (int i = 0; i < r.Ops.Length; i++)
            {
                var op = r.Ops[i];
                if (!keyIds.TryGetValue(op.Key, out int key))
                {
                    key = keys.Count;
                    keys.Add(op.Key);
                    keyIds.Add(op.Key, key);
                }
                int at = ops.Count;
                ops.Add(new OpInfo(key, op.Value ?? 0, op.Kind, op.Value is null));
                opFunction.Add(id);
                if (op.Kind != CausalOpKind.Write) continue;
                // Failed functions' writes count too: reading one must be attributed (an aborted read), not guessed.
                if (!writers.TryAdd((key, op.Value!.Value), at))
                {
                    int first = writers[(key, op.Value!.Value)];
                    var by = functions[opFunction[first]];
                    throw new HistoryFormatException(r.Line, $"op {i} writes {op.Value} to key {op.Key}, which W{workflows[by.Workflow].Id}/f{by.Index} (line {by.Line}) already wrote: written values must be unique per key");
                }
            }
        }

        var sessions = new Dictionary<long, List<int>>();
        for (int wf = 0; wf < workflows.Count; wf++)
        {
            var w = workflows[wf];
            SortAndFill(w, wf, functions);
            if (w.Aborted) continue;
            if (!sessions.TryGetValue(w.Process, out var list)) sessions.Add(w.Process, list = []);
            list.Add(wf);
        }
        var ordered = sessions.OrderBy(s => s.Key)
            .Select(s => s.Value.OrderBy(wf => workflows[wf].Seq).ToArray())
            .ToList();

        return new CausalModel
        {
            Keys = keys,
            Ops = [.. ops],
            Workflows = workflows,
            Functions = functions,
            Sessions = ordered,
            WriterOp = writers,
            OpFunction = [.. opFunction],
            RecordedFunctions = recorded,
        };
    }

    /// <summary>Sorts a workflow's functions by index, refuses one recorded twice, adds placeholders for unrecorded parents, resolves parents.</summary>
    private static void SortAndFill(WorkflowInfo w, int wf, List<FunctionInfo> functions)
    {
        // A workflow has a handful of functions: sorted lists and linear scans beat a dictionary per workflow.
        var list = w.Functions;
        list.Sort((a, b) => functions[a].Index.CompareTo(functions[b].Index));
        for (int i = 1; i < list.Count; i++)
        {
            var f = functions[list[i]];
            if (f.Index != functions[list[i - 1]].Index) continue;
            var (first, second) = functions[list[i - 1]].Line <= f.Line ? (functions[list[i - 1]], f) : (f, functions[list[i - 1]]);
            throw new HistoryFormatException(second.Line, $"function {f.Index} of workflow {w.Id} is recorded twice (also at line {first.Line})");
        }
        // Parents have lower indices (checked when parsing), so placeholders only ever add missing lower ones.
        int recorded = list.Count;
        for (int i = 0; i < recorded; i++)
            foreach (int p in functions[list[i]].LocalParents)
                if (Find(p) < 0)
                {
                    list.Add(functions.Count);
                    functions.Add(new FunctionInfo(wf, p) { Recorded = false });
                }
        if (list.Count > recorded) list.Sort((a, b) => functions[a].Index.CompareTo(functions[b].Index));
        foreach (int id in list)
        {
            var f = functions[id];
            if (f.LocalParents.Length == 0) continue;
            f.Parents = new int[f.LocalParents.Length];
            for (int j = 0; j < f.Parents.Length; j++) f.Parents[j] = list[Find(f.LocalParents[j])];
        }

        int Find(int index)
        {
            for (int i = 0; i < list.Count; i++)
                if (functions[list[i]].Index == index) return i;
            return -1;
        }
    }
}
