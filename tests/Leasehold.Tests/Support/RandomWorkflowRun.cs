using Leasehold.Runtime.Transport;
using System.Text;
using Leasehold.Runtime.Serializable;

namespace Leasehold.Tests.Support;

/// <summary>Generates random workflows and requests from a seed, runs them simulated, and compares with the serial reference.</summary>
public static class RandomWorkflowRun
{

    public sealed record Outcome(bool MatchesReference, string Mismatch, long Steps, string Trace)
    {
        public int Workers { get; init; }
        public long RemoteOperations { get; init; }
        public long LeaseTransfers { get; init; }
        public int Aborted { get; init; }
        public int Committed { get; init; }
        public int Requests { get; init; }
        public string Setup { get; init; } = "";
        /// <summary>Bytes of frames the wire codec encoded (0 on the fast transport).</summary>
        public long EncodedBytes { get; init; }
        /// <summary>Bytes of one-sided operations and completions the wire codec carried (0 in place).</summary>
        public long OneSidedBytes { get; init; }
    }

    public static void Check(int seed, ProtocolKind protocol, WriteGating gating = WriteGating.Strict, TransportKind transport = TransportKind.Inproc)
    {
        var outcome = Run(seed, protocol, gating, transport);
        if (!outcome.MatchesReference)
            throw new Xunit.Sdk.XunitException($"seed {seed} ({protocol}): {outcome.Mismatch}\nreplay: RandomWorkflowRun.Run({seed}, ProtocolKind.{protocol}, WriteGating.{gating}, TransportKind.{transport})");
    }

    public static Outcome Run(int seed, ProtocolKind protocol, WriteGating gating = WriteGating.Strict, TransportKind transport = TransportKind.Inproc)
    {
        var random = new Random(seed);
        int keySpace = random.Next(2, 7);
        var workflows = Enumerable.Range(0, random.Next(1, 4)).Select(i => RandomWorkflows.Generate(random, $"wf{i}")).ToArray();
        var options = new ClusterOptions
        {
            Workers = random.Next(1, 9),
            ExecutorsPerWorker = random.Next(1, 4),
            Protocol = protocol,
            WriteGating = gating,
            Transport = transport,
            MaxBatchSize = random.Next(1, 12),
            MaxBatchDelay = TimeSpan.FromMicroseconds(random.Next(5, 200)),
            RemoteOpLatency = TimeSpan.FromMicroseconds(random.Next(0, 20)),
            LinkLatency = TimeSpan.FromMicroseconds(random.Next(0, 20)),
            Decay = random.NextDouble() < 0.5 ? 0.5 : 0.95,
            LeaseHysteresis = random.NextDouble() < 0.5 ? 0 : 1,
            Routing = random.NextDouble() < 0.3 ? RoutingPolicy.PerKeyVoting : RoutingPolicy.SummedScore,
            // Affinity alone piles a tiny hot key space onto one worker; weigh load in so keys are shared and leases move.
            AffinityWeight = new[] { 0.0, 0.2, 1.0 }[random.Next(3)],
            LoadWeight = new[] { 1.0, 3.0 }[random.Next(2)],
        };
        var initial = RandomWorkflows.Tables.SelectMany(t => Enumerable.Range(0, keySpace).Where(k => k % 3 != 2)
            .Select(k => new KeyValuePair<StateKey, byte[]>(new StateKey(t, $"k{k}"), Value.FromLong(k * 10 + 5)))).ToList();
        // Half the runs let delayed messages and one-sided operations land while other work is pending.
        double timerBias = random.NextDouble() < 0.5 ? 0 : 0.3;
        var sim = new SimulatedCluster(seed, timerBias, options, initial, workflows);

        int requests = random.Next(1, 60);
        var requestRandom = new Random(seed ^ 0x5eed);
        // Requests arrive in waves so some batches close by size, some by delay, and pipelines overlap.
        int submitted = 0;
        while (submitted < requests)
        {
            int wave = requestRandom.Next(1, 10);
            for (int i = 0; i < wave && submitted < requests; i++, submitted++)
            {
                var wf = workflows[requestRandom.Next(workflows.Length)];
                var args = Args.Create();
                foreach (var name in RandomWorkflows.ParamNames(wf)) args.Set(name, $"k{requestRandom.Next(keySpace)}");
                args.Set("salt", requestRandom.Next(1000));
                sim.Submit(wf.Name, args.Build());
            }
            long until = sim.Scheduler.VirtualTime.Nanoseconds + requestRandom.Next(0, 300_000);
            sim.Scheduler.RunUntil(() => sim.Scheduler.VirtualTime.Nanoseconds >= until || sim.Scheduler.Fault is not null);
        }
        sim.RunToCompletion();

        var reference = new SerialReference(initial);
        var byTs = sim.Submitted.Select((s, i) => (s, i)).OrderBy(x => x.s.Result!.Timestamp).ToList();
        var trace = new StringBuilder();
        Outcome Result(bool ok, string mismatch) => new(ok, mismatch, sim.Scheduler.Steps, trace.ToString())
        {
            Workers = options.Workers,
            RemoteOperations = sim.Cluster.RemoteOperations,
            EncodedBytes = (sim.Cluster.Transport as SerialisingInprocTransport)?.BytesSent ?? 0,
            OneSidedBytes = (sim.Cluster.Memory as SerialisingOneSided)?.BytesCarried ?? 0,
            LeaseTransfers = sim.Cluster.Counters.LeaseTransfers,
            Aborted = sim.Submitted.Count(x => x.Result!.Status == WorkflowStatus.Aborted),
            Committed = sim.Submitted.Count(x => x.Result!.Status == WorkflowStatus.Committed),
            Requests = sim.Submitted.Count,
            Setup = options + "\n" + string.Join("\n", workflows.Select(Describe)) + "\n"
                + string.Join("\n", sim.Submitted.Select(x => x.Workflow + " " + x.Args + " -> " + x.Result)),
        };
        foreach (var ((wfName, args, result), index) in byTs)
        {
            var expected = reference.Execute(sim.Cluster.Workflow(wfName), args, result!.Timestamp, DateTimeOffset.UnixEpoch);
            trace.Append(result.Timestamp).Append(':').Append(result.Status).Append(';');
            if (expected.Status != result.Status)
                return Result(false, $"request {index} ({wfName} {args}) ts {result.Timestamp}: engine {result.Status} ({result.Reason}), serial {expected.Status} ({expected.Reason})");
            if (result.Status == WorkflowStatus.Committed)
                for (int f = 0; f < expected.Outputs.Length; f++)
                    if (!Value.SameBytes(expected.Outputs[f], result.Outputs[f]))
                        return Result(false, $"request {index} ({wfName} {args}) ts {result.Timestamp}: output of f{f} differs: engine {RandomWorkflows.Show(result.Outputs[f])}, serial {RandomWorkflows.Show(expected.Outputs[f])}");
        }
        foreach (var t in RandomWorkflows.Tables)
            for (int k = 0; k < keySpace; k++)
            {
                var key = new StateKey(t, $"k{k}");
                var engine = sim.Committed(key);
                var serial = reference.Get(key);
                if (!Value.SameBytes(engine, serial))
                    return Result(false, $"final state of {key}: engine {RandomWorkflows.Show(engine)}, serial {RandomWorkflows.Show(serial)}");
            }
        return Result(true, "");
    }

    private static string Describe(WorkflowDefinition w) => w.Name + ": " + string.Join(" | ", w.Functions.Select(f =>
        f.Name + "<-[" + string.Join(",", f.Parents.Select(p => w.Functions[p].Name)) + "] "
        + string.Join(",", f.Accesses.Select(a => a.Table + ":" + a.Mode)) + (f.MayAbort ? " mayAbort" : "") + " gated=" + f.WritesAwaitOutcome));
}
