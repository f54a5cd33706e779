using System.Globalization;
using System.Text;

namespace Leasehold.Workloads.Crash;

/// <summary>One request of the crash test: a transfer or a deposit, named by the client's request id.</summary>
public sealed record LedgerRequest(long Id, bool IsDeposit, string Source, string Target, long Amount)
{
    /// <summary>The wire line the client sends the node: "T id src dst amount" or "D id acct amount".</summary>
    public string ToLine() => IsDeposit
        ? string.Create(CultureInfo.InvariantCulture, $"D {Id} {Target} {Amount}")
        : string.Create(CultureInfo.InvariantCulture, $"T {Id} {Source} {Target} {Amount}");

    public static LedgerRequest Parse(string line)
    {
        var p = line.Split(' ');
        static long Number(string s, string what) =>
            long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? n : throw new FormatException($"{what} '{s}' is not a number");
        return p switch
        {
            ["T", var id, var src, var dst, var amount] => new LedgerRequest(Number(id, "the id"), false, src, dst, Number(amount, "the amount")),
            ["D", var id, var acct, var amount] => new LedgerRequest(Number(id, "the id"), true, "", acct, Number(amount, "the amount")),
            _ => throw new FormatException($"not a request line: '{line}' (expected 'T id src dst amount' or 'D id acct amount')"),
        };
    }

    public string IdempotencyKey => Id.ToString(CultureInfo.InvariantCulture);

    public Args ToArgs() => IsDeposit
        ? Args.Create().Set("id", IdempotencyKey).Set("acct", Target).Set("amount", Amount).Build()
        : Args.Create().Set("id", IdempotencyKey).Set("src", Source).Set("dst", Target).Set("amount", Amount).Build();
}

/// <summary>
/// Banking with a ledger, for the crash test: every request also writes one ledger row under its
/// request id, in the same workflow, so a committed request is visible as its row and its effect
/// together. A transfer moves the amount only when the source can pay (else 0, still recorded), so every
/// committed request has a row and the balances follow from the ledger alone.
/// </summary>
public sealed class LedgerBank
{
    public const string Accounts = "crash.accounts";
    public const string Ledger = "crash.ledger";
    public const string Transfer = "ledger-transfer";
    public const string Deposit = "ledger-deposit";

    public LedgerBank(int accounts, long initialBalance)
    {
        if (accounts < 2) throw new ArgumentOutOfRangeException(nameof(accounts), accounts, "the crash test needs at least two accounts");
        AccountNames = Enumerable.Range(0, accounts).Select(i => $"a{i}").ToArray();
        InitialBalance = initialBalance;
    }

    public IReadOnlyList<string> AccountNames { get; }
    public long InitialBalance { get; }

    public static IReadOnlyList<WorkflowDefinition> Workflows { get; } = [TransferWorkflow(), DepositWorkflow()];

    public IEnumerable<KeyValuePair<StateKey, byte[]>> InitialState() =>
        AccountNames.Select(a => new KeyValuePair<StateKey, byte[]>(new StateKey(Accounts, a), Value.FromLong(InitialBalance)));

    /// <summary>A random request; transfers and deposits half and half, amounts 1..100.</summary>
    public LedgerRequest Next(long id, Random random)
    {
        long amount = 1 + random.Next(100);
        int src = random.Next(AccountNames.Count);
        if (random.Next(2) == 0) return new LedgerRequest(id, true, "", AccountNames[src], amount);
        int dst = (src + 1 + random.Next(AccountNames.Count - 1)) % AccountNames.Count;
        return new LedgerRequest(id, false, AccountNames[src], AccountNames[dst], amount);
    }

    /// <summary>withdraw(src) records the row and how much moved → credit(dst) adds what moved: two functions, one transaction.</summary>
    private static WorkflowDefinition TransferWorkflow() => new WorkflowBuilder(Transfer)
        .Function("withdraw", f => f
            .Updates(Accounts, a => a.GetString("src"))
            .Updates(Ledger, a => a.GetString("id"))
            .Body(ctx =>
            {
                string src = ctx.Args.GetString("src"), dst = ctx.Args.GetString("dst");
                long amount = ctx.Args.GetLong("amount");
                long balance = ctx.ReadLong(Accounts, src);
                long moved = balance >= amount ? amount : 0;
                ctx.WriteLong(Accounts, src, balance - moved);
                ctx.Write(Ledger, ctx.Args.GetString("id"), Row($"T {src} {dst} {moved} {amount}"));
                return Value.FromLong(moved);
            }))
        .Function("credit", f => f
            .After("withdraw")
            .Updates(Accounts, a => a.GetString("dst"))
            .Body(ctx =>
            {
                string dst = ctx.Args.GetString("dst");
                long moved = Value.ToLong(ctx.Parent("withdraw"));
                ctx.WriteLong(Accounts, dst, ctx.ReadLong(Accounts, dst) + moved);
                return Value.FromLong(moved);
            }))
        .Build();

    private static WorkflowDefinition DepositWorkflow() => new WorkflowBuilder(Deposit)
        .Function("deposit", f => f
            .Updates(Accounts, a => a.GetString("acct"))
            .Updates(Ledger, a => a.GetString("id"))
            .Body(ctx =>
            {
                string acct = ctx.Args.GetString("acct");
                long amount = ctx.Args.GetLong("amount");
                ctx.WriteLong(Accounts, acct, ctx.ReadLong(Accounts, acct) + amount);
                ctx.Write(Ledger, ctx.Args.GetString("id"), Row($"D {acct} {amount}"));
                return Value.FromLong(amount);
            }))
        .Build();

    private static byte[] Row(FormattableString text) => Encoding.UTF8.GetBytes(FormattableString.Invariant(text));

    public static string WorkflowOf(LedgerRequest request) => request.IsDeposit ? Deposit : Transfer;
}
