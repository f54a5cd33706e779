using BenchmarkDotNet.Attributes;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;
using Leasehold.Workloads.Banking;

namespace Leasehold.Benchmarks;

/// <summary>
/// The whole engine in the deterministic mode (one thread, virtual time): a 4-worker
/// <see cref="SerializableCluster"/> over a <see cref="MemoryStateStore"/> with 100,000 Zipfian (θ = 0.99)
/// bank accounts. One invocation submits 1,000 banking requests (half transfers, half deposits), steps the
/// scheduler until every one is answered (committed or aborted), then until nothing is left to run. With
/// OperationsPerInvoke = 1,000, time and allocation are per request. The cluster lives across invocations,
/// so this is the steady state (key directory, chains and statistics warm); the requests are drawn once
/// from a pool of 10,000 and cycled. Latency is virtual: it reorders work and adds timers, not waiting.
/// </summary>
[MemoryDiagnoser]
public class BankingEndToEndBenchmarks
{
    public const int RequestsPerInvocation = 1000;
    private const int RequestPool = 10 * RequestsPerInvocation;
    private DeterministicScheduler _scheduler = null!;
    private SerializableCluster _cluster = null!;
    private (string Workflow, Args Args)[] _requests = null!;
    private Action<WorkflowResult> _onDone = null!;
    private int _cursor;
    private long _answered;
    private long _committed;
    private long _aborted;
    private long _other;
    private long _rounds;

    [Params(ProtocolKind.Lease, ProtocolKind.NoCC)]
    public ProtocolKind Protocol { get; set; }

    /// <summary>Virtual latency of each one-sided operation and each message, in microseconds (0: none; 7: RDMA-like).</summary>
    [Params(0, 7)]
    public int LatencyMicros { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var workload = new BankingWorkload(accounts: 100_000, initialBalance: 1_000_000, theta: 0.99);
        var store = new MemoryStateStore();
        store.Load(workload.InitialState());
        _scheduler = new DeterministicScheduler(seed: 1);
        var latency = TimeSpan.FromMicroseconds(LatencyMicros);
        var options = new ClusterOptions
        {
            Workers = 4,
            ExecutorsPerWorker = 2,
            Protocol = Protocol,
            MaxBatchSize = 100, // 10 batches per invocation: lease hand-overs and pipelined batches run
            RemoteOpLatency = latency,
            LinkLatency = latency,
        };
        _cluster = new SerializableCluster(options, _scheduler, store);
        foreach (var w in workload.Workflows) _cluster.Register(w);
        var random = new Random(7);
        _requests = Enumerable.Range(0, RequestPool).Select(_ => workload.Next(random)).ToArray();
        _onDone = result =>
        {
            _answered++;
            if (result.Status == WorkflowStatus.Committed) _committed++;
            else if (result.Status == WorkflowStatus.Aborted) _aborted++;
            else _other++;
        };
        Round(); // a first round checks the set-up: every request must commit or abort
        if (_other != 0) throw new InvalidOperationException($"{_other} of {_answered} requests neither committed nor aborted");
    }

    [Benchmark(OperationsPerInvoke = RequestsPerInvocation)]
    public long Banking() => Round();

    private long Round()
    {
        long target = _answered + RequestsPerInvocation;
        for (int i = 0; i < RequestsPerInvocation; i++)
        {
            var (workflow, args) = _requests[_cursor];
            _cursor = (_cursor + 1) % _requests.Length;
            _cluster.Submit(workflow, args, _onDone);
        }
        while (_answered < target)
            if (!_scheduler.Step())
                throw new InvalidOperationException($"{target - _answered} requests unanswered with nothing left to run; fault: {_scheduler.Fault}");
        while (_scheduler.Step()) { }
        if (_scheduler.Fault is { } fault) throw new InvalidOperationException($"protocol fault: {fault}");
        _rounds++;
        return _answered;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var c = _cluster.Counters;
        double n = _answered;
        Console.WriteLine(
            $"// Leasehold {Protocol}, latency {LatencyMicros} µs: {_answered} requests in {_rounds} rounds, {_committed} committed, " +
            $"{_aborted} aborted, {_other} other; local ratio {c.LocalRatio:P1}; per request: {_cluster.RemoteOperations / n:F2} remote ops, " +
            $"{_cluster.Messages / n:F3} messages, {c.LeaseTransfers / n:F3} lease transfers, {_scheduler.Steps / n:F1} scheduler steps");
    }
}
