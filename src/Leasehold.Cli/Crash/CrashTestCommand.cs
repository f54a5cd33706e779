using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Leasehold.Cli.Stores;
using Leasehold.Runtime.Storage;
using Leasehold.Workloads.Crash;

namespace Leasehold.Cli.Crash;

/// <summary>
/// `leasehold crashtest --store rocksdb:PATH --kills N`: runs banking with a ledger in a child node,
/// kills it with SIGKILL once it has acknowledged some requests and a seeded random time later, restarts it, and after every kill audits the store against
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
        var killAfterAcks = new Option<int>("--kill-after-acks") { Description = "requests the node must acknowledge in a round before it may be killed", DefaultValueFactory = _ => 100 };
        var minRun = new Option<int>("--min-run-ms") { Description = "shortest extra run, after --kill-after-acks acknowledgements, before a kill", DefaultValueFactory = _ => 300 };
        var maxRun = new Option<int>("--max-run-ms") { Description = "longest extra run, after --kill-after-acks acknowledgements, before a kill", DefaultValueFactory = _ => 3000 };
        var progressTimeout = new Option<int>("--progress-timeout") { Description = "seconds a round may take to reach --kill-after-acks before the run fails as making no progress", DefaultValueFactory = _ => 60 };
        var window = new Option<int>("--window") { Description = "requests the client keeps in flight", DefaultValueFactory = _ => 200 };
        // The negative control (hidden): without idempotency keys a re-sent request that had committed runs twice, which the audit must catch.
        var withoutKeys = new Option<bool>(CrashNodeCommand.WithoutIdempotencyFlag) { Hidden = true };
        var command = new Command("crashtest", "Kill a node with SIGKILL at random moments after it has made progress, and check that nothing acknowledged is lost")
        {
            store, kills, seed, accounts, workers, killAfterAcks, minRun, maxRun, progressTimeout, window, withoutKeys,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = new CrashTestSettings(parse.GetValue(store)!, parse.GetValue(kills), parse.GetValue(seed), parse.GetValue(accounts),
                parse.GetValue(workers), parse.GetValue(killAfterAcks), parse.GetValue(minRun), parse.GetValue(maxRun), parse.GetValue(progressTimeout),
                parse.GetValue(window), parse.GetValue(withoutKeys));
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
                if (temporary && e is CrashTestException && Directory.Exists(path)) Console.WriteLine($"the store is kept for inspection: {path}");
                return e is StoreUnavailableException ? ExitCodes.Usage : ExitCodes.Failure;
            }
        });
        return command;
    }
}

internal sealed record CrashTestSettings(string Store, int Kills, int Seed, int Accounts, int Workers, int KillAfterAcks, int MinRunMs, int MaxRunMs,
    int ProgressTimeoutSeconds, int Window, bool WithoutIdempotency = false)
{
    public TimeSpan ProgressTimeout => TimeSpan.FromSeconds(ProgressTimeoutSeconds);

    public string? Problem() =>
        Kills is < 0 or > 10_000 ? $"--kills must be in 0..10000, not {Kills}"
        : Accounts is < 2 or > 1_000_000 ? $"--accounts must be in 2..1000000, not {Accounts}"
        : Workers is < 1 or > 64 ? $"--workers must be in 1..64, not {Workers}"
        : KillAfterAcks is < 0 or > 1_000_000 ? $"--kill-after-acks must be in 0..1000000, not {KillAfterAcks}"
        : ProgressTimeoutSeconds is < 1 or > 3_600 ? $"--progress-timeout must be in 1..3600 seconds, not {ProgressTimeoutSeconds}"
        : MinRunMs < 1 || MaxRunMs < MinRunMs || MaxRunMs > 600_000 ? $"--min-run-ms and --max-run-ms must satisfy 1 ≤ min ≤ max ≤ 600000 ({MinRunMs} and {MaxRunMs})"
        : Window is < 1 or > 10_000 ? $"--window must be in 1..10000, not {Window}"
        : null;
}

/// <summary>The crash test could not run as designed (the node would not start, or broke its protocol).</summary>
internal sealed class CrashTestException(string message) : Exception(message);
