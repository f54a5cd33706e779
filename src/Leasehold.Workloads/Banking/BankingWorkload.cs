using Leasehold.Runtime.Storage;
using Leasehold.Workloads.Generators;

namespace Leasehold.Workloads.Banking;

/// <summary>
/// The paper's Banking Service (from the Streaming Ledger benchmark): transfers (check → withdraw →
/// deposit, check aborting on insufficient balance) and deposits over Zipfian accounts. Invariant: the
/// total equals the initial total plus every committed deposit.
/// </summary>
public sealed class BankingWorkload : IWorkload
{
    public const string Table = "accounts";
    public const string Transfer = "transfer";
    public const string Deposit = "deposit";

    private readonly string[] _accounts;
    private readonly ZipfianGenerator _keys;
    private long _committedDeposits;
    private long _committedTransfers;
    private long _abortedTransfers;

    public BankingWorkload(int accounts = 100_000, long initialBalance = 1_000_000, double theta = 0.99,
        double transferShare = 0.5, int maxAmount = 100)
    {
        if (accounts < 2) throw new ArgumentOutOfRangeException(nameof(accounts), accounts, "banking needs at least two accounts");
        if (transferShare is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(transferShare), transferShare, "the transfer share is a fraction in [0, 1]");
        if (maxAmount < 1) throw new ArgumentOutOfRangeException(nameof(maxAmount), maxAmount, "amounts are at least 1");
        InitialBalance = initialBalance;
        TransferShare = transferShare;
        MaxAmount = maxAmount;
        _accounts = Enumerable.Range(0, accounts).Select(i => $"acct-{i}").ToArray();
        _keys = new ZipfianGenerator(accounts, theta);
        Workflows = [TransferWorkflow(), DepositWorkflow()];
    }

    public string Name => "banking";
    public long InitialBalance { get; }
    public double TransferShare { get; }
    public int MaxAmount { get; }
    public int Accounts => _accounts.Length;
    public IReadOnlyList<WorkflowDefinition> Workflows { get; }
    public long CommittedDeposits => Interlocked.Read(ref _committedDeposits);
    public long CommittedTransfers => Interlocked.Read(ref _committedTransfers);
    public long AbortedTransfers => Interlocked.Read(ref _abortedTransfers);

    public string AccountKey(int index) => _accounts[index];

    public static WorkflowDefinition TransferWorkflow() => TransferWorkflow(Transfer, Table);

    /// <summary>check(src) aborts on an insufficient balance → withdraw(src) → deposit(dst); Jepsen's bank uses it too.</summary>
    public static WorkflowDefinition TransferWorkflow(string name, string table) => new WorkflowBuilder(name)
        .Function("check", f => f
            .Reads(table, a => a.GetString("src"))
            .MayAbort()
            .Body(ctx =>
            {
                long amount = ctx.Args.GetLong("amount");
                long balance = ctx.ReadLong(table, ctx.Args.GetString("src"));
                if (balance < amount) ctx.Abort($"insufficient balance: {balance} < {amount}");
                return Value.FromLong(balance);
            }))
        .Function("withdraw", f => f
            .After("check")
            .Updates(table, a => a.GetString("src"))
            .Body(ctx =>
            {
                string src = ctx.Args.GetString("src");
                // Read again rather than trust check's output: under nocc the two may differ, which is what the negative controls expose.
                long balance = ctx.ReadLong(table, src) - ctx.Args.GetLong("amount");
                ctx.WriteLong(table, src, balance);
                return Value.FromLong(balance);
            }))
        .Function("deposit", f => f
            .After("withdraw")
            .Updates(table, a => a.GetString("dst"))
            .Body(ctx =>
            {
                string dst = ctx.Args.GetString("dst");
                long balance = ctx.ReadLong(table, dst) + ctx.Args.GetLong("amount");
                ctx.WriteLong(table, dst, balance);
                return Value.FromLong(balance);
            }))
        .Build();

    public static WorkflowDefinition DepositWorkflow() => new WorkflowBuilder(Deposit)
        .Function("deposit", f => f
            .Updates(Table, a => a.GetString("acct"))
            .Body(ctx =>
            {
                string acct = ctx.Args.GetString("acct");
                long balance = ctx.ReadLong(Table, acct) + ctx.Args.GetLong("amount");
                ctx.WriteLong(Table, acct, balance);
                return Value.FromLong(balance);
            }))
        .Build();

    public IEnumerable<KeyValuePair<StateKey, byte[]>> InitialState()
    {
        foreach (var account in _accounts) yield return new(new StateKey(Table, account), Value.FromLong(InitialBalance));
    }

    public (string Workflow, Args Args) Next(Random random)
    {
        long amount = 1 + random.Next(MaxAmount);
        int src = _keys.Next(random);
        if (random.NextDouble() < TransferShare)
        {
            int dst = _keys.NextOtherThan(random, src);
            return (Transfer, Args.Create().Set("src", _accounts[src]).Set("dst", _accounts[dst]).Set("amount", amount).Build());
        }
        return (Deposit, Args.Create().Set("acct", _accounts[src]).Set("amount", amount).Build());
    }

    public void Observe(string workflow, Args args, WorkflowResult result)
    {
        if (workflow == Deposit && result.IsCommitted) Interlocked.Add(ref _committedDeposits, args.GetLong("amount"));
        else if (workflow == Transfer && result.IsCommitted) Interlocked.Increment(ref _committedTransfers);
        else if (workflow == Transfer && result.Status == WorkflowStatus.Aborted) Interlocked.Increment(ref _abortedTransfers);
    }

    public async Task<InvariantResult> CheckAsync(IStateStore store, CancellationToken cancellation = default)
    {
        long total = 0;
        long negative = 0;
        int rows = 0;
        await foreach (var (_, value) in store.ScanCommittedAsync(Table, cancellation))
        {
            long balance = Value.ToLong(value);
            total += balance;
            if (balance < 0) negative++;
            rows++;
        }
        long expected = InitialBalance * _accounts.Length + CommittedDeposits;
        bool ok = total == expected && negative == 0 && rows == _accounts.Length;
        return new InvariantResult("total-balance", ok,
            $"total {total}, expected {expected} (initial {InitialBalance * _accounts.Length} + committed deposits {CommittedDeposits}); {rows} accounts, {negative} negative");
    }
}
