using System.Globalization;
using System.Text;

namespace Leasehold.Workloads.Crash;

/// <summary>What one audit of the store found.</summary>
public sealed record AuditResult(int LedgerRows, int InDoubtCommitted, long Total, long ExpectedTotal, IReadOnlyList<string> Problems)
{
    public bool Ok => Problems.Count == 0;
}

/// <summary>
/// Audits the crash test's committed state against what the client knows: every acknowledged request
/// has its ledger row, no row belongs to a request never sent or says something else than was sent,
/// and every balance equals the initial balance plus the ledger's effects on it — so a lost, partial,
/// duplicated or invented effect shows up as a mismatch, and the total equals the initial total plus
/// the ledger's deposits.
/// </summary>
public static class LedgerAudit
{
    public static AuditResult Check(LedgerBank bank, IReadOnlyDictionary<string, long> balances, IReadOnlyDictionary<string, byte[]> ledger,
        IReadOnlyDictionary<long, LedgerRequest> sent, IReadOnlySet<long> acknowledged)
    {
        var problems = new List<string>();
        void Problem(string p)
        {
            if (problems.Count < 20) problems.Add(p);
        }

        var expected = bank.AccountNames.ToDictionary(a => a, _ => bank.InitialBalance, StringComparer.Ordinal);
        long deposits = 0;
        int inDoubt = 0;
        foreach (var (key, row) in ledger.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (!long.TryParse(key, NumberStyles.Integer, CultureInfo.InvariantCulture, out long id) || !sent.TryGetValue(id, out var request))
            {
                Problem($"ledger row '{key}' belongs to no request the client sent");
                continue;
            }
            if (!acknowledged.Contains(id)) inDoubt++;
            string text = Encoding.UTF8.GetString(row);
            var p = text.Split(' ');
            if (request.IsDeposit && p is ["D", var acct, var amount] && acct == request.Target && amount == Invariant(request.Amount))
            {
                expected[acct] += request.Amount;
                deposits += request.Amount;
            }
            else if (!request.IsDeposit && p is ["T", var src, var dst, var movedText, var asked] && src == request.Source && dst == request.Target
                && asked == Invariant(request.Amount) && long.TryParse(movedText, CultureInfo.InvariantCulture, out long moved) && (moved == 0 || moved == request.Amount))
            {
                expected[src] -= moved;
                expected[dst] += moved;
            }
            else Problem($"ledger row {id} says '{text}', but the client sent {request.ToLine()}");
        }
        foreach (long id in acknowledged.Order())
            if (!ledger.ContainsKey(Invariant(id))) Problem($"LOST: request {id} ({sent[id].ToLine()}) was acknowledged as committed, but its ledger row is missing");
        long total = 0;
        foreach (var account in bank.AccountNames)
        {
            if (!balances.TryGetValue(account, out long balance))
            {
                Problem($"account {account} is missing");
                continue;
            }
            total += balance;
            if (balance != expected[account]) Problem($"account {account} holds {balance}, but the ledger's effects give {expected[account]}");
            if (balance < 0) Problem($"account {account} is negative: {balance}");
        }
        foreach (var account in balances.Keys.Where(k => !expected.ContainsKey(k)).Order(StringComparer.Ordinal))
            Problem($"account {account} exists, but nobody created it");
        long expectedTotal = bank.InitialBalance * bank.AccountNames.Count + deposits;
        if (total != expectedTotal) Problem($"the total is {total}, not the initial {bank.InitialBalance * bank.AccountNames.Count} plus the ledger's deposits {deposits}");
        return new AuditResult(ledger.Count, inDoubt, total, expectedTotal, problems);
    }

    private static string Invariant(long n) => n.ToString(CultureInfo.InvariantCulture);
}
