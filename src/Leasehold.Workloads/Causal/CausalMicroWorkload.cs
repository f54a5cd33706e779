using Leasehold.Workloads.Generators;

namespace Leasehold.Workloads.Causal;

/// <summary>
/// The CausalMesh evaluation's microbenchmark (workloads.md, "Causal mode"): 100,000 keys of 8-byte
/// values under Zipf θ = 1.0; a workflow of 3 functions, each placed on a random server — f1 reads 2
/// keys, f2 reads 2 keys, f3 writes 1 — and for longer workflows (length 4..10) every function reads 2
/// keys and writes 1. Every written value is unique (a counter), which the causal checker needs.
/// </summary>
public sealed class CausalMicroWorkload : ICausalWorkload
{
    public const string Table = "causal";
    public const string Name = "causal-micro";
    private readonly ZipfianGenerator _keys;
    private long _nextValue;

    /// <param name="consistency">Causal, or TransactionalCausal to run each workflow as a read-write transaction</param>
    public CausalMicroWorkload(int keys = 100_000, double theta = 1.0, int length = 3, Consistency consistency = Consistency.Causal)
    {
        if (consistency is not (Consistency.Causal or Consistency.TransactionalCausal)) throw new ArgumentOutOfRangeException(nameof(consistency), consistency, "a causal level");
        if (keys < 2) throw new ArgumentOutOfRangeException(nameof(keys), keys, "at least two keys");
        if (length is < 3 or > 10) throw new ArgumentOutOfRangeException(nameof(length), length, "a workflow has 3 to 10 functions");
        Keys = keys;
        Length = length;
        _keys = new ZipfianGenerator(keys, theta);
        Workflow = Build(length, consistency);
    }

    public int Keys { get; }
    public int Length { get; }
    public WorkflowDefinition Workflow { get; }
    string ICausalWorkload.Name => Name;
    public IReadOnlyList<WorkflowDefinition> Workflows => [Workflow];
    public byte[]? Initial(StateKey key) => null;
    (string Workflow, Args Args) ICausalWorkload.Next(Random random) => (Name, Next(random));
    public void Observe(string workflow, WorkflowStatus status, byte[]?[] outputs) { }
    /// <summary>The microbenchmark has no invariant of its own; its history goes to the causal checker.</summary>
    public InvariantResult Check() => new("none", true, "the causal microbenchmark has no invariant of its own; record --history for the causal checker");

    private static bool Writes(int length, int f) => length > 3 || f == 2;
    private static bool Reads(int length, int f) => length > 3 || f < 2;

    private static WorkflowDefinition Build(int length, Consistency consistency)
    {
        var builder = new WorkflowBuilder(Name).WithConsistency(consistency);
        for (int f = 0; f < length; f++)
        {
            int i = f;
            builder.Function($"f{i + 1}", fn =>
            {
                if (i > 0) fn.After($"f{i}");
                if (Reads(length, i))
                {
                    fn.Reads(Table, a => a.GetString($"r{i}a"));
                    fn.Reads(Table, a => a.GetString($"r{i}b"));
                }
                if (Writes(length, i)) fn.Updates(Table, a => a.GetString($"w{i}"));
                fn.Body(ctx =>
                {
                    long sum = 0;
                    if (Reads(length, i))
                    {
                        sum += ctx.ReadLong(Table, ctx.Args.GetString($"r{i}a"));
                        sum += ctx.ReadLong(Table, ctx.Args.GetString($"r{i}b"));
                    }
                    if (Writes(length, i)) ctx.WriteLong(Table, ctx.Args.GetString($"w{i}"), ctx.Args.GetLong($"v{i}"));
                    return Value.FromLong(sum);
                });
            });
        }
        return builder.Build();
    }

    /// <summary>The next request: its keys by Zipf, and a unique value for each write.</summary>
    public Args Next(Random random)
    {
        var args = Args.Create();
        for (int f = 0; f < Length; f++)
        {
            if (Reads(Length, f))
            {
                args.Set($"r{f}a", Key(_keys.Next(random)));
                args.Set($"r{f}b", Key(_keys.Next(random)));
            }
            if (Writes(Length, f))
            {
                args.Set($"w{f}", Key(_keys.Next(random)));
                args.Set($"v{f}", Interlocked.Increment(ref _nextValue));
            }
        }
        return args.Build();
    }

    public static string Key(int index) => $"k{index}";
}
