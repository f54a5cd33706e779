using System.Diagnostics;
using System.Globalization;
using Leasehold.Storage.RocksDb;
using Leasehold.Workloads.Crash;

namespace Leasehold.Cli.Crash;

/// <summary>
/// The crash test's client. Each round starts the node (which recovers), re-sends every request not
/// yet acknowledged under its id, sends new ones until the node has acknowledged some (so every round
/// does work, on any machine) and then for a seeded random extra time, and kills the node. Between
/// rounds, with the node dead, it opens the store itself and audits the committed state. The last
/// round kills nothing: it waits until every request is acknowledged and audits once more.
/// </summary>
internal sealed class CrashTest(CrashTestSettings settings, string path)
{
    private const long InitialBalance = 1_000;
    private readonly LedgerBank _bank = new(settings.Accounts, InitialBalance);
    private readonly object _gate = new();
    private readonly Dictionary<long, LedgerRequest> _sent = [];
    private readonly HashSet<long> _acknowledged = [];
    private readonly List<string> _failures = [];
    private SemaphoreSlim _window = new(settings.Window);
    private long _nextId = 1;

    public async Task<bool> RunAsync(CancellationToken cancellation)
    {
        await PrepareAsync(cancellation);
        var random = new Random(settings.Seed);
        // Its own source, so the kill moments do not depend on how many requests a round happened to send.
        var killMoments = new Random(unchecked(settings.Seed * 7919 + 1));
        Console.WriteLine($"crashtest: {settings.Kills} kills, each after {settings.KillAfterAcks} acknowledgements and {settings.MinRunMs}–{settings.MaxRunMs} ms more; seed {settings.Seed}, {settings.Accounts} accounts, store rocksdb:{path}");
        var problems = new List<string>();
        for (int round = 0; round <= settings.Kills && problems.Count == 0; round++)
        {
            bool last = round == settings.Kills;
            int ackedBefore = Acknowledged;
            var clock = Stopwatch.StartNew();
            _window = new SemaphoreSlim(settings.Window);
            var (node, reexecuted) = await CrashNode.StartAsync(path, settings.Workers, settings.WithoutIdempotency, OnAck, cancellation);
            await using (node)
            {
                var progressDeadline = clock.Elapsed + settings.ProgressTimeout;
                foreach (var request in InDoubt())
                    await SendAsync(node, request, clock, progressDeadline, ackedBefore, cancellation);
                if (!last)
                {
                    // Kill only a node that has made progress, so every round does work however slow the machine;
                    // the seeded extra run after it spreads the kills over batches in every stage.
                    while (Acknowledged - ackedBefore < settings.KillAfterAcks)
                        await SendAsync(node, NewRequest(random), clock, progressDeadline, ackedBefore, cancellation);
                    var extra = TimeSpan.FromMilliseconds(killMoments.Next(settings.MinRunMs, settings.MaxRunMs + 1));
                    var killAt = clock.Elapsed + extra;
                    while (clock.Elapsed < killAt && !node.HasExited)
                    {
                        if (!await _window.WaitAsync(killAt - clock.Elapsed, cancellation)) break;
                        await node.SendAsync(NewRequest(random).ToLine());
                    }
                    if (node.HasExited) throw new CrashTestException($"the node exited by itself: {node.Stderr.Trim()}");
                    await node.KillAsync();
                }
                else
                {
                    await WaitAllAcknowledgedAsync(TimeSpan.FromSeconds(120));
                    int exit = await node.StopAsync(TimeSpan.FromSeconds(30));
                    if (exit != 0) problems.Add($"the node exited with {exit} at the end: {node.Stderr.Trim()}");
                }
            }
            var audit = await AuditAsync(cancellation);
            problems.AddRange(audit.Problems);
            lock (_gate) problems.AddRange(_failures);
            int inDoubt = _sent.Count - Acknowledged;
            string verdict = audit.Ok && _failures.Count == 0 ? "ok" : "PROBLEMS";
            string what = last ? "final" : $"kill {round + 1,3}/{settings.Kills}";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{what}: recovery re-executed {reexecuted} batch(es); ran {clock.Elapsed.TotalSeconds:F2} s; {Acknowledged:N0} acknowledged (+{Acknowledged - ackedBefore:N0}), {inDoubt:N0} in doubt, {audit.InDoubtCommitted:N0} of them committed; ledger {audit.LedgerRows:N0} rows; total {audit.Total:N0}, expected {audit.ExpectedTotal:N0}: {verdict}"));
        }
        if (problems.Count == 0 && Acknowledged != _sent.Count) problems.Add($"{_sent.Count - Acknowledged} requests were never acknowledged");
        if (problems.Count == 0)
        {
            Console.WriteLine($"nothing lost: {settings.Kills} kills, {Acknowledged:N0} requests acknowledged, each applied exactly once; every balance matches the ledger");
            return true;
        }
        Console.WriteLine($"LOST OR CORRUPTED: {problems.Count} problem(s)");
        foreach (var p in problems.Take(20)) Console.WriteLine($"  {p}");
        return false;
    }

    /// <summary>
    /// Sends one request once the window has room. Room comes back with every acknowledgement, so a node that
    /// stops answering would park this forever: past <paramref name="deadline"/> without the round's progress
    /// the run fails, naming it, instead of hanging.
    /// </summary>
    private async Task SendAsync(CrashNode node, LedgerRequest request, Stopwatch clock, TimeSpan deadline, int ackedBefore, CancellationToken cancellation)
    {
        while (!await _window.WaitAsync(PollInterval, cancellation))
        {
            if (node.HasExited) throw new CrashTestException($"the node exited by itself: {node.Stderr.Trim()}");
            if (clock.Elapsed >= deadline && Acknowledged - ackedBefore < settings.KillAfterAcks) throw NoProgress(ackedBefore);
        }
        if (clock.Elapsed >= deadline && Acknowledged - ackedBefore < settings.KillAfterAcks)
        {
            _window.Release();
            throw NoProgress(ackedBefore);
        }
        await node.SendAsync(request.ToLine());
    }

    private CrashTestException NoProgress(int ackedBefore) => new(string.Create(CultureInfo.InvariantCulture,
        $"the node did not reach its kill threshold in {settings.ProgressTimeout.TotalSeconds:F0} s: it acknowledged {Acknowledged - ackedBefore} of the {settings.KillAfterAcks} requests a round waits for before its kill (--kill-after-acks, --progress-timeout)"));

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private int Acknowledged
    {
        get { lock (_gate) return _acknowledged.Count; }
    }

    private List<LedgerRequest> InDoubt()
    {
        lock (_gate) return [.. _sent.Values.Where(r => !_acknowledged.Contains(r.Id)).OrderBy(r => r.Id)];
    }

    private LedgerRequest NewRequest(Random random)
    {
        var request = _bank.Next(_nextId++, random);
        lock (_gate) _sent.Add(request.Id, request);
        return request;
    }

    private void OnAck(long id, string status, string? reason)
    {
        lock (_gate)
        {
            if (status == "Committed") _acknowledged.Add(id);
            else if (status is not ("Unknown" or "Rejected")) _failures.Add($"request {id} ended {status}: {reason}");
            // Unknown and Rejected stay in doubt: the next round re-sends them under the same id.
        }
        _window.Release();
    }

    private async Task WaitAllAcknowledgedAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (Acknowledged < _sent.Count && clock.Elapsed < timeout) await Task.Delay(20);
        if (Acknowledged < _sent.Count) throw new CrashTestException($"{_sent.Count - Acknowledged} requests were still not acknowledged {timeout.TotalSeconds:F0} s after the last restart");
    }

    /// <summary>A fresh store gets the accounts; a store that already holds data is refused, since the client would not know what it acknowledged.</summary>
    private async Task PrepareAsync(CancellationToken cancellation)
    {
        await using var store = RocksDbStateStore.Open(path);
        bool empty = await store.LastCommittedAsync(cancellation) == 0;
        await foreach (var _ in store.ScanCommittedAsync(LedgerBank.Accounts, cancellation))
        {
            empty = false;
            break;
        }
        if (!empty) throw new Leasehold.Runtime.Storage.StoreUnavailableException($"'{path}' already holds a crash test's data: give a fresh path (or none, for a temporary directory)");
        await store.LoadAsync(_bank.InitialState(), cancellation);
    }

    private async Task<AuditResult> AuditAsync(CancellationToken cancellation)
    {
        await using var store = RocksDbStateStore.Open(path);
        var balances = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var (key, value) in store.ScanCommittedAsync(LedgerBank.Accounts, cancellation)) balances[key] = Value.ToLong(value);
        var ledger = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        await foreach (var (key, value) in store.ScanCommittedAsync(LedgerBank.Ledger, cancellation)) ledger[key] = value;
        lock (_gate) return LedgerAudit.Check(_bank, balances, ledger, new Dictionary<long, LedgerRequest>(_sent), new HashSet<long>(_acknowledged));
    }
}
