using System.CommandLine;
using Leasehold.Cli.Bench.Causal;

namespace Leasehold.Cli.Processes;

/// <summary>
/// The flags of `leasehold worker` for the causal mode: the driver's options and workload, which the launcher passes
/// (<see cref="CausalBenchSettings.WorkerArgs"/>) so every process builds the same cache servers and workflows.
/// </summary>
internal sealed class CausalWorkerFlags
{
    private readonly Option<string> _mode = new("--mode") { Description = "serializable (a worker node of each incarnation, the default) | causal (this process's cache servers: the driver's --mode)", DefaultValueFactory = _ => "serializable" };
    private readonly Option<string> _protocol = new("--protocol") { Description = "causal: causalmesh (default) | eventual (the driver's)", DefaultValueFactory = _ => "causalmesh" };
    private readonly Option<double> _theta = new("--theta") { Description = "causal: as the driver's (its workload's skew)", DefaultValueFactory = _ => 1.0 };
    private readonly Option<int> _seed = new("--seed") { Description = "causal: as the driver's", DefaultValueFactory = _ => 1 };
    private readonly Option<bool> _noEager = new("--no-eager") { Description = "causal: as the driver's" };
    private readonly Option<bool> _transactions = new("--transactions") { Description = "causal: as the driver's (its workflows are transactions)" };

    private CausalWorkerFlags()
    {
        _mode.AcceptOnlyFromAmong("serializable", "causal");
        _protocol.AcceptOnlyFromAmong("causalmesh", "eventual");
    }

    public static CausalWorkerFlags AddTo(Command command)
    {
        var flags = new CausalWorkerFlags();
        foreach (var o in new Option[] { flags._mode, flags._protocol, flags._theta, flags._seed, flags._noEager, flags._transactions }) command.Options.Add(o);
        return flags;
    }

    public string Mode(ParseResult parse) => parse.GetValue(_mode)!;

    /// <summary>The causal run this worker serves, from its flags; a store, or a serializable workload, is a <see cref="UsageException"/>.</summary>
    public CausalBenchSettings Settings(ParseResult parse, Option<string> store, Option<string> workload, Option<int?> keys, Option<int> length)
    {
        if (parse.GetValue(store) is not null)
            throw new UsageException("--store: across processes the causal mode keeps its state in the caches and opens no store: drop --store");
        string chosen = parse.GetResult(workload) is { Implicit: false } ? parse.GetValue(workload)! : "causal-micro";
        if (chosen is not ("causal-micro" or "media")) throw new UsageException($"--workload {chosen} is a serializable workload; --mode causal runs causal-micro or media");
        return new CausalBenchSettings
        {
            Workload = chosen,
            Protocol = parse.GetValue(_protocol) == "eventual" ? Runtime.Causal.CausalProtocol.Eventual : Runtime.Causal.CausalProtocol.CausalMesh,
            Theta = parse.GetValue(_theta),
            Keys = parse.GetValue(keys) ?? 100_000,
            Length = parse.GetResult(length) is { Implicit: false } ? parse.GetValue(length) : 3,
            EagerIntegration = !parse.GetValue(_noEager),
            Transactions = parse.GetValue(_transactions),
            Seed = parse.GetValue(_seed),
        };
    }

    /// <summary>The serializable mode takes none of the causal flags: one given is a <see cref="UsageException"/> naming it.</summary>
    public void RequireNone(ParseResult parse)
    {
        foreach (var o in new Option[] { _protocol, _theta, _seed, _noEager, _transactions })
            if (parse.GetResult(o) is { Implicit: false })
                throw new UsageException($"{o.Name} applies to --mode causal (the serializable worker takes its options from the driver)");
    }
}
