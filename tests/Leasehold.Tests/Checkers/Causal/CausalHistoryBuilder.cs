using Leasehold.Checkers.Causal;

namespace Leasehold.Tests.Checkers.Causal;

/// <summary>One function of a workflow being built: its index, parents, server and ops.</summary>
internal sealed record Fn(int Index, int[] Parents, params CausalOp[] Ops)
{
    public int Server { get; init; }
    public bool Ok { get; init; } = true;
}

/// <summary>
/// Hand-made causal histories: each call adds a workflow as the given process's next seq, with a fresh
/// workflow id (W1, W2, … in the order added), so tests read as a list of sessions' workflows.
/// </summary>
internal sealed class CausalHistoryBuilder
{
    private readonly List<CausalRecord> _records = [];
    private readonly Dictionary<long, long> _nextSeq = [];
    private long _nextWorkflow = 1;

    public static CausalOp W(string key, long value) => CausalOp.Write(key, value);

    public static CausalOp R(string key, long? value) => CausalOp.Read(key, value);

    public IReadOnlyList<CausalRecord> Records => _records;

    /// <summary>A one-function workflow.</summary>
    public CausalHistoryBuilder Session(long process, params CausalOp[] ops) => Workflow(process, new Fn(0, [], ops));

    /// <summary>A workflow of several functions (a DAG through their parents).</summary>
    public CausalHistoryBuilder Workflow(long process, params Fn[] functions) => Add(process, transaction: false, functions);

    /// <summary>A read-write transaction (TCC): every function's record says <c>"txn":true</c>.</summary>
    public CausalHistoryBuilder Transaction(long process, params Fn[] functions) => Add(process, transaction: true, functions);

    private CausalHistoryBuilder Add(long process, bool transaction, Fn[] functions)
    {
        long seq = _nextSeq.GetValueOrDefault(process);
        _nextSeq[process] = seq + 1;
        long id = _nextWorkflow++;
        foreach (var f in functions)
            _records.Add(new CausalRecord(process, seq, id, f.Index, f.Parents, f.Ok, f.Ops) { Server = f.Server, Transaction = transaction });
        return this;
    }

    public CausalCheckResult Check(bool convergence = false) =>
        new CausalChecker(new CausalCheckerOptions { Convergence = convergence }).Check(new CausalMemoryHistory(_records));

    /// <summary>The same history with its records in reverse order: the checker must not depend on the file's order.</summary>
    public CausalCheckResult CheckReversed(bool convergence = false) =>
        new CausalChecker(new CausalCheckerOptions { Convergence = convergence }).Check(new CausalMemoryHistory([.. Enumerable.Reverse(_records)]));
}

/// <summary>Assertions on causal verdicts, with the verdict in the message.</summary>
internal static class CausalVerdict
{
    public static string Describe(CausalCheckResult r) =>
        (r.Valid ? "valid" : "invalid") + ": " +
        string.Join(", ", r.Counts.Where(c => c.Value > 0).Select(c => $"{c.Key}={c.Value}")) + "\n" +
        string.Join("\n", r.Examples.Select(a => $"{a.Kind}: {a.Explanation}"));

    public static void Valid(CausalCheckResult r) => Assert.True(r.Valid, Describe(r));

    /// <summary>Invalid, with <paramref name="kind"/> reported <paramref name="count"/> times, and nothing else.</summary>
    public static CausalAnomaly Flags(CausalCheckResult r, string kind, long count = 1)
    {
        Assert.False(r.Valid, Describe(r));
        Assert.True(r.Counts[kind] == count, $"expected {kind} × {count}; got {Describe(r)}");
        var unrelated = r.Counts.Where(c => c.Value > 0 && c.Key != kind).Select(c => c.Key).ToList();
        Assert.True(unrelated.Count == 0, $"expected only {kind}; also got {string.Join(", ", unrelated)}: {Describe(r)}");
        return r.Examples.First(a => a.Kind == kind);
    }
}
