using Leasehold.Runtime.Storage;

namespace Leasehold.Workloads.Cycle;

/// <summary>
/// FoundationDB's Cycle: N keys form one ring (the value of key i is the index of the next key); a swap
/// turns r → r2 → r3 → r4 into r → r3 → r2 → r4, which keeps one ring of length N only if it is atomic
/// and isolated. Invariant: every committed full read, and the final committed state, is a single cycle
/// of length N through key 0.
///
/// The engine declares a function's keys up front from the parameters (Calvin-like), so the dependent
/// reads r → r2 → r3 cannot happen inside one transaction. As Calvin does (OLLP), the caller
/// reconnoitres: <see cref="Next"/> guesses r2 and r3 from the last ring it knows, and the swap's
/// <c>check</c> function aborts with "stale guess" when the guess no longer holds. The known ring is
/// refreshed from every committed result (newest timestamp wins per key), and an aborted swap makes the
/// next request a full read, so stale guesses cannot starve the workload.
/// </summary>
public sealed class CycleWorkload : IWorkload
{
    public const string Table = "cycle";
    public const string Swap = "cycle-swap";
    public const string FullRead = "cycle-read";
    /// <summary>The swap's reading function; its output is the values of r, r2, r3 (that is r2, r3, r4).</summary>
    public const string Check = "check";
    /// <summary>The fan-in function of <see cref="FullRead"/>; its output is the value of every key.</summary>
    public const string Ring = "ring";
    public const string StaleGuess = "stale guess";
    public const string NotARing = "not a ring";

    private readonly string[] _keys;
    private readonly ReadAudit _reads = new();
    private readonly Lock _viewLock = new();
    private readonly long[] _view;
    private readonly long[] _viewTs;
    private int _refreshWanted;
    private long _committedSwaps;
    private long _staleSwaps;
    private long _brokenSwaps;
    private long _otherOutcomes;

    /// <param name="keys">the ring's length N, at least 4 so that r, r2, r3, r4 are distinct</param>
    /// <param name="readShare">the fraction of requests that are full reads (besides those after an abort)</param>
    public CycleWorkload(int keys = 16, double readShare = 0.2)
    {
        if (keys < 4) throw new ArgumentOutOfRangeException(nameof(keys), keys, "a cycle needs at least 4 keys (r, r2, r3, r4 distinct)");
        if (readShare is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(readShare), readShare, "the read share is a fraction in [0, 1]");
        ReadShare = readShare;
        _keys = Enumerable.Range(0, keys).Select(i => $"c{i}").ToArray();
        _view = Enumerable.Range(0, keys).Select(i => (long)((i + 1) % keys)).ToArray();
        _viewTs = new long[keys];
        Workflows = [SwapWorkflow(), ReadWorkflow()];
    }

    public string Name => "cycle";
    public int Keys => _keys.Length;
    public double ReadShare { get; }
    public IReadOnlyList<WorkflowDefinition> Workflows { get; }
    public long CommittedSwaps => Interlocked.Read(ref _committedSwaps);
    /// <summary>Swaps aborted by check: the guess was stale (normal) or the ring was already broken (never under a safe protocol).</summary>
    public long AbortedSwaps => Interlocked.Read(ref _staleSwaps) + Interlocked.Read(ref _brokenSwaps);
    public long ReadsChecked => _reads.Checked;
    public long BadReads => _reads.Bad;

    public string KeyOf(long index) => _keys[index];

    private WorkflowDefinition SwapWorkflow() => new WorkflowBuilder(Swap)
        .Function(Check, f => f
            .Reads(Table, a => KeyOf(a.GetLong("r")))
            .Reads(Table, a => KeyOf(a.GetLong("r2")))
            .Reads(Table, a => KeyOf(a.GetLong("r3")))
            .MayAbort()
            .Body(ctx =>
            {
                long r = ctx.Args.GetLong("r"), r2 = ctx.Args.GetLong("r2"), r3 = ctx.Args.GetLong("r3");
                long atR = ctx.ReadLong(Table, KeyOf(r), -1), atR2 = ctx.ReadLong(Table, KeyOf(r2), -1), atR3 = ctx.ReadLong(Table, KeyOf(r3), -1);
                if (atR != r2 || atR2 != r3)
                    ctx.Abort($"{StaleGuess}: {KeyOf(r)} → {atR}, {KeyOf(r2)} → {atR2}, guessed {r2}, {r3}");
                // r4 among r, r2, r3 means the ring is already shorter than 4: rewiring would only hide it.
                if (atR3 < 0 || atR3 >= Keys || atR3 == r || atR3 == r2 || atR3 == r3)
                    ctx.Abort($"{NotARing}: {KeyOf(r)} → {r2} → {r3} → {atR3}");
                return Longs.Encode([atR, atR2, atR3]);
            }))
        // The writes are three functions apart from check (and each other): reads and writes in different functions.
        .Function("r-to-r3", f => Rewire(f, "r", seen => seen[1]))
        .Function("r3-to-r2", f => Rewire(f, "r3", seen => seen[0]))
        .Function("r2-to-r4", f => Rewire(f, "r2", seen => seen[2]))
        .Build();

    /// <summary>Points the key named by parameter <paramref name="param"/> at a value chosen from what check saw (r2, r3, r4).</summary>
    private void Rewire(FunctionBuilder f, string param, Func<long[], long> target) => f
        .After(Check)
        .Updates(Table, a => KeyOf(a.GetLong(param)))
        .Body(ctx => ctx.WriteLong(Table, KeyOf(ctx.Args.GetLong(param)), target(Longs.Decode(ctx.Parent(Check))!)));

    /// <summary>Two functions read half the ring each (possibly on different workers); a fan-in joins them.</summary>
    private WorkflowDefinition ReadWorkflow()
    {
        int half = Keys / 2;
        return new WorkflowBuilder(FullRead)
            .Function("read-low", f => ReadRange(f, 0, half))
            .Function("read-high", f => ReadRange(f, half, Keys))
            .Function(Ring, f => f
                .After("read-low", "read-high")
                .Body(ctx => Longs.Encode([.. Longs.Decode(ctx.Parent("read-low"))!, .. Longs.Decode(ctx.Parent("read-high"))!])))
            .Build();
    }

    private void ReadRange(FunctionBuilder f, int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            string key = _keys[i];
            f.Reads(Table, _ => key);
        }
        f.Body(ctx =>
        {
            var next = new long[to - from];
            for (int i = from; i < to; i++) next[i - from] = ctx.ReadLong(Table, _keys[i], -1);
            return Longs.Encode(next);
        });
    }

    public IEnumerable<KeyValuePair<StateKey, byte[]>> InitialState()
    {
        for (int i = 0; i < Keys; i++) yield return new(new StateKey(Table, _keys[i]), Value.FromLong((i + 1) % Keys));
    }

    public (string Workflow, Args Args) Next(Random random)
    {
        // Both draws happen on every call, so the random stream does not depend on the known ring.
        bool read = random.NextDouble() < ReadShare;
        int r = random.Next(Keys);
        if (Interlocked.Exchange(ref _refreshWanted, 0) == 1) read = true;
        if (!read)
        {
            long r2, r3;
            lock (_viewLock)
            {
                r2 = _view[r];
                r3 = _view[r2];
            }
            // A known ring mixed from several snapshots may not even give three distinct keys: read instead.
            if (r2 != r && r3 != r && r3 != r2)
                return (Swap, Args.Create().Set("r", r).Set("r2", r2).Set("r3", r3).Build());
        }
        return (FullRead, Args.Empty);
    }

    public void Observe(string workflow, Args args, WorkflowResult result)
    {
        if (workflow == Swap && result.IsCommitted)
        {
            Interlocked.Increment(ref _committedSwaps);
            var seen = Longs.Decode(result.Output(Check));
            if (seen is { Length: 3 })
            {
                // What the swap wrote: r → r3, r3 → r2, r2 → r4.
                Learn(result.Timestamp, args.GetLong("r"), seen[1]);
                Learn(result.Timestamp, args.GetLong("r3"), seen[0]);
                Learn(result.Timestamp, args.GetLong("r2"), seen[2]);
            }
        }
        else if (workflow == Swap && result.Status == WorkflowStatus.Aborted)
        {
            Interlocked.Increment(ref result.Reason?.Contains(NotARing, StringComparison.Ordinal) == true ? ref _brokenSwaps : ref _staleSwaps);
            // An aborted result carries no values, so ask for a full read to refresh the known ring.
            Volatile.Write(ref _refreshWanted, 1);
        }
        else if (workflow == FullRead && result.IsCommitted)
        {
            var ring = Longs.Decode(result.Output(Ring));
            _reads.Record(RingProblem(ring, Keys) is { } problem ? $"read@{result.Timestamp}: {problem}" : null);
            if (ring is not null && ring.Length == Keys)
                for (int i = 0; i < Keys; i++) Learn(result.Timestamp, i, ring[i]);
        }
        else Interlocked.Increment(ref _otherOutcomes);
    }

    /// <summary>Updates the known ring unless it already holds a newer value of the key (timestamps are the serial order).</summary>
    private void Learn(long timestamp, long key, long next)
    {
        if (key < 0 || key >= Keys || next < 0 || next >= Keys) return;
        lock (_viewLock)
            if (timestamp > _viewTs[key])
            {
                _view[key] = next;
                _viewTs[key] = timestamp;
            }
    }

    /// <summary>
    /// Why <paramref name="next"/> is not one cycle of length <paramref name="n"/> through key 0 (walking
    /// from 0 returns to 0 in exactly n hops, visiting every key once), or null when it is.
    /// </summary>
    public static string? RingProblem(long[]? next, int n)
    {
        if (next is null || next.Length != n) return $"malformed ring ({next?.Length.ToString() ?? "no"} values for {n} keys)";
        var visited = new bool[n];
        long at = 0;
        for (int hop = 1; hop <= n; hop++)
        {
            long to = next[at];
            if (to < 0 || to >= n) return $"c{at} → {to}, not a key (after {hop - 1} hops from c0)";
            if (to == 0) return hop == n ? null : $"the cycle through c0 has length {hop}, not {n}: [{string.Join(", ", next)}]";
            if (visited[to]) return $"c{to} is entered twice before returning to c0: [{string.Join(", ", next)}]";
            visited[to] = true;
            at = to;
        }
        return $"no return to c0 in {n} hops: [{string.Join(", ", next)}]";
    }

    public async Task<InvariantResult> CheckAsync(IStateStore store, CancellationToken cancellation = default)
    {
        var next = Enumerable.Repeat(-1L, Keys).ToArray();
        int rows = 0, strangers = 0;
        await foreach (var (key, value) in store.ScanCommittedAsync(Table, cancellation))
        {
            rows++;
            int index = Array.IndexOf(_keys, key);
            if (index < 0) strangers++;
            else next[index] = Value.ToLong(value);
        }
        string? problem = RingProblem(next, Keys);
        // check reads a serializable snapshot even when it aborts, so a swap that found no ring saw a broken state too.
        bool ok = problem is null && rows == Keys && strangers == 0 && _reads.Bad == 0 && Interlocked.Read(ref _brokenSwaps) == 0;
        return new InvariantResult("cycle-ring", ok,
            $"final ring: {problem ?? $"one cycle of {Keys}"}, {rows} rows ({strangers} unknown keys); " +
            $"swaps {CommittedSwaps} committed, {Interlocked.Read(ref _staleSwaps)} aborted as stale, {Interlocked.Read(ref _brokenSwaps)} found no ring; " +
            $"{_reads.Describe()}" +
            (Interlocked.Read(ref _otherOutcomes) is > 0 and var other ? $"; {other} requests neither committed nor aborted" : ""));
    }
}
