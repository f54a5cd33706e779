using Leasehold.Workloads.Banking;
using Leasehold.Runtime.Storage;

namespace Leasehold.Workloads.JepsenBank;

/// <summary>
/// Jepsen's bank: 8 accounts holding 100 in total, transfers of 1..5 between uniform distinct accounts
/// (check → withdraw → deposit, check aborting on insufficient balance) and full reads of all 8
/// accounts. A full read spans three functions (two reads of 4 accounts, then a fan-in), so it is a
/// snapshot only if the whole workflow is one serializable transaction. Invariant: every committed read
/// sums to 100 with no negative balance, and so does the final committed state.
/// </summary>
public sealed class JepsenBankWorkload : IWorkload
{
    public const string Table = "bank";
    public const string Transfer = "bank-transfer";
    public const string FullRead = "bank-read";
    /// <summary>The fan-in function of <see cref="FullRead"/>; its output is all 8 balances.</summary>
    public const string Balances = "balances";
    public const int AccountCount = 8;
    public const long Total = 100;
    public const int MaxAmount = 5;

    private static readonly string[] Accounts = Enumerable.Range(0, AccountCount).Select(i => $"a{i}").ToArray();
    private readonly ReadAudit _reads = new();
    private long _committedTransfers;
    private long _abortedTransfers;
    private long _otherOutcomes;

    /// <param name="transferShare">the fraction of requests that are transfers; the rest are full reads</param>
    public JepsenBankWorkload(double transferShare = 0.5)
    {
        if (transferShare is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(transferShare), transferShare, "the transfer share is a fraction in [0, 1]");
        TransferShare = transferShare;
        Workflows = [TransferWorkflow(), ReadWorkflow()];
    }

    public string Name => "bank";
    public double TransferShare { get; }
    public IReadOnlyList<WorkflowDefinition> Workflows { get; }
    public long CommittedTransfers => Interlocked.Read(ref _committedTransfers);
    public long AbortedTransfers => Interlocked.Read(ref _abortedTransfers);
    public long ReadsChecked => _reads.Checked;
    public long BadReads => _reads.Bad;

    public static string AccountKey(int index) => Accounts[index];

    /// <summary>13, 13, 13, 13, 12, 12, 12, 12: the total split as evenly as possible.</summary>
    public static long InitialBalance(int index) => Total / AccountCount + (index < Total % AccountCount ? 1 : 0);

    public static WorkflowDefinition TransferWorkflow() => BankingWorkload.TransferWorkflow(Transfer, Table);

    /// <summary>Two functions read half the accounts each (possibly on different workers); a fan-in joins them.</summary>
    public static WorkflowDefinition ReadWorkflow() => new WorkflowBuilder(FullRead)
        .Function("read-low", f => ReadRange(f, 0, AccountCount / 2))
        .Function("read-high", f => ReadRange(f, AccountCount / 2, AccountCount))
        .Function(Balances, f => f
            .After("read-low", "read-high")
            .Body(ctx => Longs.Encode([.. Longs.Decode(ctx.Parent("read-low"))!, .. Longs.Decode(ctx.Parent("read-high"))!])))
        .Build();

    private static void ReadRange(FunctionBuilder f, int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            string key = Accounts[i];
            f.Reads(Table, _ => key);
        }
        f.Body(ctx =>
        {
            var balances = new long[to - from];
            for (int i = from; i < to; i++) balances[i - from] = ctx.ReadLong(Table, Accounts[i]);
            return Longs.Encode(balances);
        });
    }

    public IEnumerable<KeyValuePair<StateKey, byte[]>> InitialState()
    {
        for (int i = 0; i < AccountCount; i++) yield return new(new StateKey(Table, Accounts[i]), Value.FromLong(InitialBalance(i)));
    }

    public (string Workflow, Args Args) Next(Random random)
    {
        if (random.NextDouble() >= TransferShare) return (FullRead, Args.Empty);
        int src = random.Next(AccountCount);
        int dst = random.Next(AccountCount - 1);
        if (dst >= src) dst++;
        long amount = 1 + random.Next(MaxAmount);
        return (Transfer, Args.Create().Set("src", Accounts[src]).Set("dst", Accounts[dst]).Set("amount", amount).Build());
    }

    public void Observe(string workflow, Args args, WorkflowResult result)
    {
        if (workflow == Transfer && result.IsCommitted) Interlocked.Increment(ref _committedTransfers);
        else if (workflow == Transfer && result.Status == WorkflowStatus.Aborted) Interlocked.Increment(ref _abortedTransfers);
        else if (workflow == FullRead && result.IsCommitted) _reads.Record(ReadProblem(result));
        else Interlocked.Increment(ref _otherOutcomes);
    }

    /// <summary>Why a committed full read is impossible in any serial order, or null when it is fine.</summary>
    private static string? ReadProblem(WorkflowResult result)
    {
        var balances = Longs.Decode(result.Output(Balances));
        if (balances is null || balances.Length != AccountCount)
            return $"read@{result.Timestamp}: malformed output ({balances?.Length.ToString() ?? "none"} balances)";
        long sum = balances.Sum();
        if (sum == Total && balances.All(b => b >= 0)) return null;
        return $"read@{result.Timestamp}: [{string.Join(", ", balances)}] sums to {sum}" + (balances.Any(b => b < 0) ? ", negative balance" : "");
    }

    public async Task<InvariantResult> CheckAsync(IStateStore store, CancellationToken cancellation = default)
    {
        long total = 0;
        int negative = 0, rows = 0;
        await foreach (var (_, value) in store.ScanCommittedAsync(Table, cancellation))
        {
            long balance = Value.ToLong(value);
            total += balance;
            if (balance < 0) negative++;
            rows++;
        }
        bool ok = total == Total && negative == 0 && rows == AccountCount && _reads.Bad == 0;
        return new InvariantResult("bank-total", ok,
            $"final total {total} (expected {Total}) over {rows} accounts (expected {AccountCount}), {negative} negative; " +
            $"{_reads.Describe()}; transfers {CommittedTransfers} committed, {AbortedTransfers} aborted" +
            (Interlocked.Read(ref _otherOutcomes) is > 0 and var other ? $"; {other} requests neither committed nor aborted" : ""));
    }
}
