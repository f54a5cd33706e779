namespace Leasehold.Checkers.Causal;

/// <summary>
/// The write of each key a committed read-write transaction makes visible. The engine buffers a transaction's
/// writes and commits one value per key: the last write of the key in the transaction's function order (index
/// order, a topological order of its DAG, as the SDK numbers functions), program order inside a function. Two
/// writes of one key in concurrent branches are ordered by index too, which is what the buffer's merge does
/// when branches finish; the earlier ones are intermediate: the transaction itself may read them (read your
/// writes), nobody else may (<see cref="CausalAnomalyKinds.IntermediateRead"/>). Linear in the transactions' ops.
/// </summary>
internal static class TransactionFinalWrites
{
    /// <param name="opWrite">per op, its committed write id or −1</param>
    public static Dictionary<(int Workflow, int Key), int> Compute(CausalModel model, int[] opWrite)
    {
        var final = new Dictionary<(int, int), int>();
        for (int wf = 0; wf < model.Workflows.Count; wf++)
        {
            var w = model.Workflows[wf];
            if (!w.Transaction || w.Aborted) continue;
            foreach (int f in w.Functions) // index order
            {
                var fn = model.Functions[f];
                for (int o = fn.FirstOp; o < fn.FirstOp + fn.OpCount; o++)
                    if (model.Ops[o].IsWrite) final[(wf, model.Ops[o].Key)] = opWrite[o];
            }
        }
        return final;
    }
}
