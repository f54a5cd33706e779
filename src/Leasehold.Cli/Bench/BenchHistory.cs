using System.Diagnostics;
using Leasehold.Checkers.Histories;
using Leasehold.Checkers.ListAppend;
using Leasehold.Workloads;

namespace Leasehold.Cli.Bench;

/// <summary>
/// Records a checkable workload's history during a bench run (every request, warm-up included, so no
/// read sees an append the history lacks) and checks it afterwards with the list-append checker.
/// </summary>
internal sealed class BenchHistory : IDisposable
{
    private readonly IHistoryWorkload _workload;
    private readonly HistoryRecorder _recorder;
    private readonly bool _temporary;

    private BenchHistory(IHistoryWorkload workload, string path, bool temporary, long firstFreshProcess)
    {
        _workload = workload;
        Path = path;
        _temporary = temporary;
        long origin = Stopwatch.GetTimestamp();
        var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        _recorder = new HistoryRecorder(file, () => (long)(Stopwatch.GetElapsedTime(origin).Ticks * 100L), firstFreshProcess: firstFreshProcess);
    }

    public string Path { get; }

    /// <summary>A recorder for the workload if it is checkable, else null.</summary>
    public static BenchHistory? For(IWorkload workload, BenchSettings settings)
    {
        if (workload is not IHistoryWorkload checkable) return null;
        string path = settings.HistoryPath ?? System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"leasehold-history-{Environment.ProcessId}-{settings.Seed}.jsonl");
        // Closed-loop clients are processes 0..clients-1; fresh ids (after an unknown outcome, or one per open-loop request) follow.
        return new BenchHistory(checkable, path, settings.HistoryPath is null, settings.Rate is null ? settings.Clients : 0);
    }

    public long FreshProcess() => _recorder.FreshProcess();

    public void Invoke(long process, string workflow, Args args) => _recorder.Invoke(process, _workload.Describe(workflow, args));

    public void Complete(long process, string workflow, Args args, WorkflowResult result)
    {
        switch (result.Status)
        {
            case WorkflowStatus.Committed:
                _recorder.Complete(process, OpType.Ok, _workload.Completed(workflow, args, result));
                break;
            case WorkflowStatus.Unknown: // may have committed: never a failure
                _recorder.Complete(process, OpType.Info, _workload.Describe(workflow, args));
                break;
            default: // aborted, failed, rejected: nothing took effect
                _recorder.Complete(process, OpType.Fail, _workload.Describe(workflow, args));
                break;
        }
    }

    /// <summary>Closes the file and checks it (strictly: the engine promises strict serializability).</summary>
    public CheckerVerdict Check()
    {
        _recorder.Dispose();
        var clock = Stopwatch.StartNew();
        var result = new ListAppendChecker(new CheckerOptions { Strict = true }).Check(new FileHistory(Path));
        return new CheckerVerdict(result, clock.Elapsed.TotalSeconds, _temporary ? null : Path);
    }

    public void Dispose()
    {
        _recorder.Dispose();
        if (_temporary) File.Delete(Path);
    }
}

/// <summary>The checker's result as the bench reports it.</summary>
internal sealed record CheckerVerdict(CheckResult Result, double Seconds, string? HistoryPath);
