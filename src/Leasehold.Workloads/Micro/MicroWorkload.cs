using Leasehold.Runtime.Storage;
using Leasehold.Workloads.Generators;

namespace Leasehold.Workloads.Micro;

/// <summary>
/// The paper's microbenchmark (§5.3): a chain of <c>length</c> functions, one key each, over 20,000
/// Zipfian keys with 64-byte values; write-only by default, a share of read-only transactions
/// optional. Each write increments a counter kept in the value's first 8 bytes, so the invariant is
/// exact: the counters sum to the number of committed writes.
/// </summary>
public sealed class MicroWorkload : IWorkload
{
    public const string Table = "micro";
    public const string Update = "micro-update";
    public const string ReadOnly = "micro-read";
    public const int ValueSize = 64;

    private readonly string[] _keys;
    private readonly ZipfianGenerator _zipf;
    private readonly string[] _paramNames;
    private long _committedWrites;

    public MicroWorkload(int keys = 20_000, double theta = 0.99, int length = 2, double readOnlyShare = 0)
    {
        if (length is < 1 or > 10) throw new ArgumentOutOfRangeException(nameof(length), length, "the transaction length is 1..10 functions");
        if (keys < length) throw new ArgumentOutOfRangeException(nameof(keys), keys, "the key space must hold one distinct key per function");
        if (readOnlyShare is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(readOnlyShare), readOnlyShare, "the read-only share is a fraction in [0, 1]");
        Length = length;
        ReadOnlyShare = readOnlyShare;
        _keys = Enumerable.Range(0, keys).Select(i => $"k{i}").ToArray();
        _zipf = new ZipfianGenerator(keys, theta);
        _paramNames = Enumerable.Range(0, length).Select(i => $"k{i}").ToArray();
        Workflows = [Chain(Update, AccessMode.ReadWrite), Chain(ReadOnly, AccessMode.Read)];
    }

    public string Name => "micro";
    public int Length { get; }
    public double ReadOnlyShare { get; }
    public IReadOnlyList<WorkflowDefinition> Workflows { get; }

    private WorkflowDefinition Chain(string name, AccessMode mode)
    {
        var builder = new WorkflowBuilder(name);
        for (int i = 0; i < Length; i++)
        {
            string param = _paramNames[i];
            string? parent = i == 0 ? null : $"f{i - 1}";
            builder.Function($"f{i}", f =>
            {
                if (parent is not null) f.After(parent);
                f.Access(Table, a => a.GetString(param), mode).Body(ctx =>
                {
                    string key = ctx.Args.GetString(param);
                    byte[] current = ctx.Read(Table, key) ?? new byte[ValueSize];
                    if (mode == AccessMode.Read) return current;
                    long counter = BitConverter.ToInt64(current, 0) + 1;
                    var next = new byte[ValueSize];
                    BitConverter.TryWriteBytes(next, counter);
                    next.AsSpan(8).Fill((byte)counter);
                    ctx.Write(Table, key, next);
                    return null;
                });
            });
        }
        return builder.Build();
    }

    public IEnumerable<KeyValuePair<StateKey, byte[]>> InitialState()
    {
        foreach (var key in _keys) yield return new(new StateKey(Table, key), new byte[ValueSize]);
    }

    public (string Workflow, Args Args) Next(Random random)
    {
        Span<int> chosen = stackalloc int[Length];
        var args = Args.Create();
        for (int i = 0; i < Length; i++)
        {
            int k;
            do k = _zipf.Next(random);
            while (chosen[..i].Contains(k));
            chosen[i] = k;
            args.Set(_paramNames[i], _keys[k]);
        }
        bool readOnly = ReadOnlyShare > 0 && random.NextDouble() < ReadOnlyShare;
        return (readOnly ? ReadOnly : Update, args.Build());
    }

    public void Observe(string workflow, Args args, WorkflowResult result)
    {
        if (workflow == Update && result.IsCommitted) Interlocked.Add(ref _committedWrites, Length);
    }

    public async Task<InvariantResult> CheckAsync(IStateStore store, CancellationToken cancellation = default)
    {
        long sum = 0;
        int bad = 0;
        await foreach (var (_, value) in store.ScanCommittedAsync(Table, cancellation))
        {
            if (value.Length != ValueSize) { bad++; continue; }
            sum += BitConverter.ToInt64(value, 0);
        }
        long expected = Interlocked.Read(ref _committedWrites);
        return new InvariantResult("write-count", sum == expected && bad == 0,
            $"counters sum to {sum}, committed writes {expected}; {bad} malformed values");
    }
}
