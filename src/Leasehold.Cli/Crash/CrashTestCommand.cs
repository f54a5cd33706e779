using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Leasehold.Cli.Stores;
using Leasehold.Runtime.Storage;
using Leasehold.Workloads.Crash;

namespace Leasehold.Cli.Crash;

/// <summary>
/// `leasehold crashtest --store rocksdb:PATH --kills N`: runs banking with a ledger in a child node,
/// kills it with SIGKILL at random moments, restarts it, and after every kill audits the store against
/// what the client was told (<see cref="LedgerAudit"/>). The client counts a request as acknowledged
/// only when the node reports its batch committed, and re-sends the unacknowledged ones after each
/// restart under the same request id, so the idempotency keys must keep them from running twice.
/// Exit 0 only when nothing was lost.
/// </summary>
internal static class CrashTestCommand
{
    public static Command Create()
    {
        var store = new Option<string>("--store") { Description = "the durable store to crash: rocksdb[:PATH] (a fresh temporary directory without a path)", DefaultValueFactory = _ => "rocksdb" };
        var kills = new Option<int>("--kills") { Description = "how many times to kill the node", DefaultValueFactory = _ => 20 };
        var seed = new Option<int>("--seed") { Description = "seeds the requests and the kill moments", DefaultValueFactory = _ => 1 };
        var accounts = new Option<int>("--accounts") { Description = "bank accounts", DefaultValueFactory = _ => 50 };
        var workers = new Option<int>("--workers") { Description = "workers in the node", DefaultValueFactory = _ => 2 };
        var minRun = new Option<int>("--min-run-ms") { Description = "shortest run before a kill", DefaultValueFactory = _ => 300 };
        var maxRun = new Option<int>("--max-run-ms") { Description = "longest run before a kill", DefaultValueFactory = _ => 3000 };
        var window = new Option<int>("--window") { Description = "requests the client keeps in flight", DefaultValueFactory = _ => 200 };
        // The negative control (hidden): without idempotency keys a re-sent request that had committed runs twice, which the audit must catch.
        var withoutKeys = new Option<bool>(CrashNodeCommand.WithoutIdempotencyFlag) { Hidden = true };
        var command = new Command("crashtest", "Kill a node with SIGKILL at random moments and check that nothing acknowledged is lost")
        {
            store, kills, seed, accounts, workers, minRun, maxRun, window, withoutKeys,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = new CrashTestSettings(parse.GetValue(store)!, parse.GetValue(kills), parse.GetValue(seed), parse.GetValue(accounts),
                parse.GetValue(workers), parse.GetValue(minRun), parse.GetValue(maxRun), parse.GetValue(window), parse.GetValue(withoutKeys));
            if (settings.Problem() is { } problem)
            {
                Console.Error.WriteLine($"leasehold crashtest: {problem}");
                return ExitCodes.Usage;
            }
            var (spec, specProblem) = StoreSpec.Parse(settings.Store);
            if (spec is null || spec.Engine != "rocksdb")
            {
                Console.Error.WriteLine($"leasehold crashtest: {specProblem ?? $"--store {StoreSpec.Redact(settings.Store)}: the crash test kills a node with its embedded store, so it takes rocksdb[:PATH]"}");
                return ExitCodes.Usage;
            }
            bool temporary = spec.Target is null;
            string path = Path.GetFullPath(spec.Target ?? Path.Combine(Path.GetTempPath(), $"leasehold-crashtest-{Environment.ProcessId}-{settings.Seed}"));
            try
            {
                bool ok = await new CrashTest(settings, path).RunAsync(cancellation);
                if (temporary && ok) Directory.Delete(path, recursive: true);
                else if (temporary) Console.WriteLine($"the store is kept for inspection: {path}");
                return ok ? ExitCodes.Ok : ExitCodes.Failure;
            }
            catch (Exception e) when (e is StoreUnavailableException or CrashTestException)
            {
                Console.Error.WriteLine($"leasehold crashtest: {e.Message}");
                return e is StoreUnavailableException ? ExitCodes.Usage : ExitCodes.Failure;
            }
        });
        return command;
    }
}

internal sealed record CrashTestSettings(string Store, int Kills, int Seed, int Accounts, int Workers, int MinRunMs, int MaxRunMs, int Window, bool WithoutIdempotency = false)
{
    public string? Problem() =>
        Kills is < 0 or > 10_000 ? $"--kills must be in 0..10000, not {Kills}"
        : Accounts is < 2 or > 1_000_000 ? $"--accounts must be in 2..1000000, not {Accounts}"
        : Workers is < 1 or > 64 ? $"--workers must be in 1..64, not {Workers}"
        : MinRunMs < 1 || MaxRunMs < MinRunMs || MaxRunMs > 600_000 ? $"--min-run-ms and --max-run-ms must satisfy 1 ≤ min ≤ max ≤ 600000 ({MinRunMs} and {MaxRunMs})"
        : Window is < 1 or > 10_000 ? $"--window must be in 1..10000, not {Window}"
        : null;
}

/// <summary>The crash test could not run as designed (the node would not start, or broke its protocol).</summary>
internal sealed class CrashTestException(string message) : Exception(message);
