namespace Leasehold.Checkers.Causal;

/// <summary>Builds the <see cref="CausalGraph"/> of a loaded history: lanes and chain positions, nodes, reads attributed, edges.</summary>
internal static class CausalGraphBuilder
{
    public static CausalGraph Build(CausalModel model)
    {
        var functions = model.Functions;
        var ops = model.Ops;
        var nodeFunction = new List<int>();
        var nodeFirst = new List<int>();
        var nodeEnd = new List<int>();
        var nodeWrite = new List<int>();
        var nodeChain = new List<int>();
        var writeOp = new List<int>();
        var writeNode = new List<int>();
        var writeChain = new List<int>();
        var writePos = new List<int>();
        var chainProcess = new List<long>();
        var chainWrites = new List<int>();
        var firstNode = new int[functions.Count];
        var nodeCount = new int[functions.Count];
        Array.Fill(firstNode, -1);
        var opWrite = new int[ops.Length];
        Array.Fill(opWrite, -1);
        var laneOf = new int[functions.Count]; // the lane (index into the process's lanes) of each committed function

        foreach (var session in model.Sessions)
        {
            long process = model.Workflows[session[0]].Process;
            // Per lane: its global chain id, the function last on it, and the workflow that last took it.
            var lanes = new List<(int Chain, int Last, int TakenBy)>();
            var free = new Stack<int>();
            foreach (int wf in session)
            {
                // At a workflow's start every lane of the process is free: its last function is in an earlier
                // workflow, which precedes everything in this one.
                free.Clear();
                for (int l = lanes.Count - 1; l >= 0; l--) free.Push(l);
                foreach (int f in model.Workflows[wf].Functions) // index order: a topological order of the DAG
                {
                    int lane = -1;
                    foreach (int p in functions[f].Parents)
                        if (lanes[laneOf[p]].Last == p) { lane = laneOf[p]; break; }
                    if (lane < 0)
                    {
                        while (free.Count > 0 && lanes[free.Peek()].TakenBy == wf) free.Pop();
                        if (free.Count > 0) lane = free.Pop();
                        else
                        {
                            lane = lanes.Count;
                            lanes.Add((chainProcess.Count, -1, -1));
                            chainProcess.Add(process);
                            chainWrites.Add(0);
                        }
                    }
                    laneOf[f] = lane;
                    int chain = lanes[lane].Chain;
                    lanes[lane] = (chain, f, wf);
                    AddNodes(f, chain);
                }
            }
        }

        int opNodes = nodeFunction.Count;
        // Barriers: one per committed workflow that its process follows with another.
        var barrierWorkflow = new List<int>();
        foreach (var session in model.Sessions)
            for (int i = 0; i + 1 < session.Length; i++) barrierWorkflow.Add(session[i]);
        // Commit nodes: one per committed read-write transaction.
        int commitNodes = opNodes + barrierWorkflow.Count;
        var commitWorkflow = new List<int>();
        var workflowCommit = new int[model.Workflows.Count];
        Array.Fill(workflowCommit, -1);
        for (int wf = 0; wf < model.Workflows.Count; wf++)
            if (model.Workflows[wf].Transaction && !model.Workflows[wf].Aborted)
            {
                workflowCommit[wf] = commitNodes + commitWorkflow.Count;
                commitWorkflow.Add(wf);
            }
        int nodes = commitNodes + commitWorkflow.Count;
        var writeWorkflow = new int[writeOp.Count];
        for (int w = 0; w < writeWorkflow.Length; w++) writeWorkflow[w] = functions[model.OpFunction[writeOp[w]]].Workflow;
        var finalWrites = TransactionFinalWrites.Compute(model, opWrite);

        var readSource = new int[ops.Length];
        Array.Fill(readSource, ReadSource.None);
        for (int f = 0; f < functions.Count; f++)
        {
            if (firstNode[f] < 0) continue; // aborted workflow: its reads are not checked
            var fn = functions[f];
            for (int o = fn.FirstOp; o < fn.FirstOp + fn.OpCount; o++)
            {
                var op = ops[o];
                if (op.IsWrite) continue;
                if (op.Init) readSource[o] = ReadSource.Init;
                else if (!model.WriterOp.TryGetValue((op.Key, op.Value), out int writer)) readSource[o] = ReadSource.ThinAir;
                else if (opWrite[writer] < 0) readSource[o] = ReadSource.Aborted;
                else readSource[o] = Intermediate(opWrite[writer], fn.Workflow) ? ReadSource.Intermediate : opWrite[writer];
            }
        }

        var edges = new EdgeBuffer();
        for (int f = 0; f < functions.Count; f++)
        {
            if (firstNode[f] < 0) continue;
            int first = firstNode[f], last = first + nodeCount[f] - 1;
            for (int n = first; n < last; n++) edges.Add(n, n + 1, EdgeLabel.ProgramOrder);
            foreach (int p in functions[f].Parents) edges.Add(firstNode[p] + nodeCount[p] - 1, first, EdgeLabel.Parent);
        }
        foreach (int wf in commitWorkflow)
            foreach (int f in model.Workflows[wf].Functions) edges.Add(firstNode[f] + nodeCount[f] - 1, workflowCommit[wf], EdgeLabel.IntoCommit);
        int barrier = opNodes;
        foreach (var session in model.Sessions)
            for (int i = 0; i + 1 < session.Length; i++, barrier++)
            {
                // A transaction's successor follows its commit (which follows all its functions).
                if (workflowCommit[session[i]] >= 0) edges.Add(workflowCommit[session[i]], barrier, EdgeLabel.IntoBarrier);
                else foreach (int f in model.Workflows[session[i]].Functions) edges.Add(firstNode[f] + nodeCount[f] - 1, barrier, EdgeLabel.IntoBarrier);
                foreach (int f in model.Workflows[session[i + 1]].Functions)
                    if (functions[f].Parents.Length == 0) edges.Add(barrier, firstNode[f], EdgeLabel.OutOfBarrier);
            }
        for (int n = 0; n < opNodes; n++)
            for (int o = nodeFirst[n]; o < nodeEnd[n]; o++)
                if (readSource[o] >= 0) edges.Add(ReadFrom(readSource[o], functions[nodeFunction[n]].Workflow), n, o);

        return new CausalGraph
        {
            OpNodes = opNodes,
            Nodes = nodes,
            CommitNodes = commitNodes,
            CommitWorkflow = [.. commitWorkflow],
            WorkflowCommit = workflowCommit,
            Chains = chainProcess.Count,
            NodeFunction = [.. nodeFunction],
            NodeFirstOp = [.. nodeFirst],
            NodeEndOp = [.. nodeEnd],
            NodeWrite = [.. nodeWrite],
            NodeChain = [.. nodeChain, .. Enumerable.Repeat(-1, barrierWorkflow.Count + commitWorkflow.Count)],
            BarrierWorkflow = [.. barrierWorkflow],
            FunctionFirstNode = firstNode,
            FunctionNodeCount = nodeCount,
            WriteOp = [.. writeOp],
            WriteNode = [.. writeNode],
            WriteChain = [.. writeChain],
            WritePos = [.. writePos],
            WriteWorkflow = writeWorkflow,
            FinalWrites = finalWrites,
            OpWrite = opWrite,
            ReadSource = readSource,
            ChainProcess = [.. chainProcess],
            Co = new Csr(nodes, edges),
        };

        // A transaction's write is read by other workflows from its commit; by the transaction itself, from the write.
        int ReadFrom(int write, int readerWorkflow) =>
            workflowCommit[writeWorkflow[write]] >= 0 && writeWorkflow[write] != readerWorkflow ? workflowCommit[writeWorkflow[write]] : writeNode[write];

        // Only a transaction's final write of a key is ever visible outside it.
        bool Intermediate(int write, int readerWorkflow)
        {
            int wf = writeWorkflow[write];
            return workflowCommit[wf] >= 0 && wf != readerWorkflow && finalWrites[(wf, ops[writeOp[write]].Key)] != write;
        }

        // A function's ops cut after every write: reads… write | reads… write | … | trailing reads.
        void AddNodes(int f, int chain)
        {
            var fn = functions[f];
            firstNode[f] = nodeFunction.Count;
            int start = fn.FirstOp, end = fn.FirstOp + fn.OpCount;
            for (int o = start; o < end; o++)
            {
                if (!ops[o].IsWrite) continue;
                int w = writeOp.Count;
                writeOp.Add(o);
                writeNode.Add(nodeFunction.Count);
                writeChain.Add(chain);
                writePos.Add(++chainWrites[chain]);
                opWrite[o] = w;
                Node(f, start, o + 1, w, chain);
                start = o + 1;
            }
            if (start < end || nodeFunction.Count == firstNode[f]) Node(f, start, end, -1, chain);
            nodeCount[f] = nodeFunction.Count - firstNode[f];
        }

        void Node(int f, int first, int end, int write, int chain)
        {
            nodeFunction.Add(f);
            nodeFirst.Add(first);
            nodeEnd.Add(end);
            nodeWrite.Add(write);
            nodeChain.Add(chain);
        }
    }
}
