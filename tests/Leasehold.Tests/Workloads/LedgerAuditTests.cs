using System.Text;
using Leasehold.Workloads.Crash;

namespace Leasehold.Tests.Workloads;

/// <summary>The crash test's audit: a consistent state passes, and each way of losing or corrupting data is caught.</summary>
public class LedgerAuditTests
{
    private static readonly LedgerBank Bank = new(accounts: 3, initialBalance: 100);
    private static readonly LedgerRequest Deposit = new(1, true, "", "a0", 10);
    private static readonly LedgerRequest Transfer = new(2, false, "a0", "a1", 30);

    private static Dictionary<long, LedgerRequest> Sent => new() { [1] = Deposit, [2] = Transfer };

    private static Dictionary<string, byte[]> Ledger(params (string Id, string Row)[] rows) =>
        rows.ToDictionary(r => r.Id, r => Encoding.UTF8.GetBytes(r.Row), StringComparer.Ordinal);

    private static Dictionary<string, long> Balances(long a0, long a1, long a2) => new(StringComparer.Ordinal) { ["a0"] = a0, ["a1"] = a1, ["a2"] = a2 };

    private static AuditResult Audit(Dictionary<string, long> balances, Dictionary<string, byte[]> ledger, params long[] acknowledged) =>
        LedgerAudit.Check(Bank, balances, ledger, Sent, acknowledged.ToHashSet());

    [Fact]
    public void A_consistent_state_passes()
    {
        var result = Audit(Balances(80, 130, 100), Ledger(("1", "D a0 10"), ("2", "T a0 a1 30 30")), 1, 2);
        Assert.True(result.Ok, string.Join("; ", result.Problems));
        Assert.Equal(310, result.Total);
    }

    [Fact]
    public void A_committed_but_unacknowledged_request_is_allowed_and_counted()
    {
        var result = Audit(Balances(110, 100, 100), Ledger(("1", "D a0 10")));
        Assert.True(result.Ok, string.Join("; ", result.Problems));
        Assert.Equal(1, result.InDoubtCommitted);
    }

    [Fact]
    public void An_acknowledged_request_without_its_row_is_lost()
    {
        var result = Audit(Balances(110, 100, 100), Ledger(("1", "D a0 10")), 1, 2);
        Assert.Contains(result.Problems, p => p.StartsWith("LOST: request 2"));
    }

    [Fact]
    public void An_effect_applied_twice_is_caught()
    {
        var result = Audit(Balances(120, 100, 100), Ledger(("1", "D a0 10")), 1);
        Assert.Contains(result.Problems, p => p.Contains("account a0 holds 120, but the ledger's effects give 110"));
        Assert.Contains(result.Problems, p => p.StartsWith("the total is 320"));
    }

    [Fact]
    public void Half_a_transfer_is_caught()
    {
        var result = Audit(Balances(70, 100, 100), Ledger(("1", "D a0 10"), ("2", "T a0 a1 30 30")), 1, 2);
        Assert.Contains(result.Problems, p => p.Contains("account a1 holds 100, but the ledger's effects give 130"));
    }

    [Fact]
    public void A_row_of_a_request_never_sent_or_contradicting_it_is_caught()
    {
        var invented = Audit(Balances(110, 100, 100), Ledger(("1", "D a0 10"), ("9", "D a2 5")), 1);
        Assert.Contains(invented.Problems, p => p.Contains("ledger row '9' belongs to no request"));
        var contradicting = Audit(Balances(110, 100, 100), Ledger(("1", "D a1 10")), 1);
        Assert.Contains(contradicting.Problems, p => p.Contains("ledger row 1 says 'D a1 10'"));
    }
}
