using System.CommandLine;
using Leasehold.Cli.Stores;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Recovery;
using Leasehold.Runtime.Storage;
using Leasehold.Workloads.Crash;

namespace Leasehold.Cli.Crash;

/// <summary>
/// The crash test's node (hidden): a cluster on the given store that recovers on start, then runs the
/// request lines it reads on stdin, each with its request id as the idempotency key, and writes
/// "ack ID STATUS" once the request's batch has committed. "ready N" (N: batches re-executed by the
/// recovery) comes first. The parent kills it with SIGKILL; stdin at its end means stop cleanly.
/// </summary>
internal static class CrashNodeCommand
{
    public const string Name = "crashtest-node";
    /// <summary>The negative control: requests go in without their idempotency keys, so a re-sent request that had committed runs twice.</summary>
    public const string WithoutIdempotencyFlag = "--without-idempotency";

    public static Command Create()
    {
        var store = new Option<string>("--store") { Required = true };
        var workers = new Option<int>("--workers") { DefaultValueFactory = _ => 2 };
        var withoutKeys = new Option<bool>(WithoutIdempotencyFlag);
        var command = new Command(Name, "the crash test's node; started by `leasehold crashtest`") { store, workers, withoutKeys };
        command.Hidden = true;
        command.SetAction(async (parse, cancellation) =>
        {
            var (spec, problem) = StoreSpec.Parse(parse.GetValue(store)!);
            if (spec is null)
            {
                Console.Error.WriteLine($"leasehold {Name}: {problem}");
                return ExitCodes.Usage;
            }
            try
            {
                await using var opened = await spec.OpenAsync("crashtest");
                return await RunAsync(opened.Store, parse.GetValue(workers), !parse.GetValue(withoutKeys), cancellation);
            }
            catch (Exception e) when (e is StoreUnavailableException or RecoveryException)
            {
                Console.Error.WriteLine($"leasehold {Name}: {e.Message}");
                return ExitCodes.Failure;
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(IStateStore store, int workers, bool idempotent, CancellationToken cancellation)
    {
        using var scheduler = new ThreadPoolScheduler();
        var cluster = new SerializableCluster(new ClusterOptions { Workers = workers, MaxBatchDelay = TimeSpan.FromMilliseconds(1) }, scheduler, store);
        foreach (var w in LedgerBank.Workflows) cluster.Register(w);
        await cluster.StartAsync();
        var output = Console.Out;
        lock (output) output.WriteLine($"ready {cluster.Counters.BatchesReexecuted}");
        int outstanding = 0;
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Increment(ref outstanding); // the reader's own hold, dropped at the end of stdin
        while (await Console.In.ReadLineAsync(cancellation) is { } line)
        {
            if (line.Length == 0) continue;
            LedgerRequest request;
            try { request = LedgerRequest.Parse(line); }
            catch (FormatException e)
            {
                Console.Error.WriteLine($"leasehold {Name}: {e.Message}");
                return ExitCodes.Usage;
            }
            Interlocked.Increment(ref outstanding);
            cluster.Submit(LedgerBank.WorkflowOf(request), request.ToArgs(), result =>
            {
                lock (output) output.WriteLine($"ack {request.Id} {result.Status}{(result.Reason is { } r ? " " + r.ReplaceLineEndings(" ") : "")}");
                if (Interlocked.Decrement(ref outstanding) == 0) drained.TrySetResult();
            }, idempotent ? request.IdempotencyKey : null);
        }
        if (Interlocked.Decrement(ref outstanding) == 0) drained.TrySetResult();
        await drained.Task;
        return ExitCodes.Ok;
    }
}
