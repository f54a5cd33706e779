using Leasehold.Runtime.Causal;

namespace Leasehold.Tests.Causal.Baselines;

/// <summary>The baselines (hydro-con, hydro-opt, faastcc) on fan-in workflows, which the micro workload's chains never exercise.</summary>
public class BaselineDiamondTests
{
    private const string T = "d";

    /// <summary>
    /// A diamond a → (b, c) → d, each function reading two keys of a small set and writing one (unique values);
    /// the fan-in child re-reads keys its branches read. The micro workload is a chain, so fan-in is untested there.
    /// </summary>
    internal static WorkflowDefinition Diamond(Consistency consistency = Consistency.Causal)
    {
        var builder = new WorkflowBuilder("diamond").WithConsistency(consistency);
        foreach (var (name, parents) in new[] { ("a", Array.Empty<string>()), ("b", new[] { "a" }), ("c", new[] { "a" }), ("d", new[] { "b", "c" }) })
        {
            string n = name;
            builder.Function(n, fn =>
            {
                if (parents.Length > 0) fn.After(parents);
                fn.Reads(T, a => a.GetString($"{n}r1")).Reads(T, a => a.GetString($"{n}r2")).Updates(T, a => a.GetString($"{n}w"));
                fn.Body(ctx =>
                {
                    long s = ctx.ReadLong(T, ctx.Args.GetString($"{n}r1")) + ctx.ReadLong(T, ctx.Args.GetString($"{n}r2"));
                    ctx.WriteLong(T, ctx.Args.GetString($"{n}w"), ctx.Args.GetLong($"{n}v"));
                    return Value.FromLong(s);
                });
            });
        }
        return builder.Build();
    }

    internal static BaselineRun DiamondRun(int seed, CausalProtocol protocol, int workflows = 400, int keys = 4, Consistency consistency = Consistency.Causal)
    {
        long value = 0;
        var run = new BaselineRun(seed, new CausalOptions
        {
            Servers = 3 + seed % 3, Protocol = protocol, LinkLatency = TimeSpan.FromMicroseconds(20 + seed % 3 * 15),
            NotificationInterval = TimeSpan.FromMicroseconds(50 + seed % 4 * 100),
        });
        run.Runtime.Register(Diamond(consistency));
        run.Run(processes: 8, workflows, (_, r) =>
        {
            var args = Args.Create();
            foreach (var n in new[] { "a", "b", "c", "d" })
            {
                args.Set($"{n}r1", "k" + r.Next(keys)).Set($"{n}r2", "k" + r.Next(keys)).Set($"{n}w", "k" + r.Next(keys)).Set($"{n}v", ++value);
            }
            return ("diamond", args.Build());
        });
        return run;
    }

    /// <summary>Twenty seeds: without hydro-opt's fan-in check, seeds 2, 6, 10, 15, 18 and 19 of these fail (CyclicCF; FracturedRead when transactional).</summary>
    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 20)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void HydroOpt_diamonds_are_causal(int seed) => Valid(DiamondRun(seed, CausalProtocol.HydroOpt));

    [Theory]
    [MemberData(nameof(Seeds))]
    public void HydroCon_diamonds_are_causal(int seed) => Valid(DiamondRun(seed, CausalProtocol.HydroCon));

    [Theory]
    [MemberData(nameof(Seeds))]
    public void FaasTcc_diamonds_are_causal(int seed) => Valid(DiamondRun(seed, CausalProtocol.FaasTcc));

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Transactional_diamonds_are_causal_snapshots_under_every_baseline(int seed)
    {
        foreach (var protocol in new[] { CausalProtocol.HydroCon, CausalProtocol.HydroOpt, CausalProtocol.FaasTcc })
            Valid(DiamondRun(seed, protocol, consistency: Consistency.TransactionalCausal));
    }

    private static void Valid(BaselineRun run)
    {
        var result = run.Check();
        Assert.True(result.Valid, run.Explain(result));
        Assert.All(run.Results, r => Assert.True(r.Succeeded, $"seed {run.Seed}: {r.Status}: {r.Reason}"));
    }
}

/// <summary>FaaSTCC aborts only when a version it needs was pruned.</summary>
public class FaasTccAbortTests
{
    /// <summary>
    /// With every version kept (nothing pruned) a chain always finds a version valid at its snapshot's low:
    /// the store can raise its clock to it, and every version is valid at least at its own timestamp (no other
    /// version of its key has that timestamp). So a version committed while another prepare holds its
    /// partition's promise lower must not get a validity ending at the promise, below its own timestamp: the
    /// interval would be empty ([low, high] with high &lt; low) and the next read would abort for nothing.
    /// </summary>
    [Theory]
    [MemberData(nameof(HydroCacheTests.Seeds), MemberType = typeof(HydroCacheTests))]
    public void With_every_version_kept_a_chain_never_aborts(int seed)
    {
        var run = HydroCacheTests.Micro(seed, CausalProtocol.FaasTcc, 600, history: 100_000);
        var result = run.Check();
        Assert.True(result.Valid, run.Explain(result));
        int aborts = run.Results.Sum(r => r.Aborts);
        Assert.True(aborts == 0, $"seed {seed}: {aborts} aborts with no version ever pruned");
    }
}

/// <summary>The bench's flags with the baselines: a flag that does not apply is a usage error naming it.</summary>
public class BaselineBenchFlagTests
{
    /// <summary>--no-eager is CausalMesh's option; a baseline must refuse it rather than silently ignore it.</summary>
    [Fact]
    public async Task No_eager_with_a_baseline_is_a_usage_error_that_names_the_flag()
    {
        var run = await Leasehold.Tests.Support.CliProcess.RunAsync("bench", "--mode", "causal", "--protocol", "faastcc", "--no-eager", "--duration", "0.1", "--quiet");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--no-eager", run.Stderr);
    }

    /// <summary>--history with one protocol but two rounds must name the rounds, not ask for the one --protocol already given.</summary>
    [Fact]
    public async Task History_with_several_rounds_says_rounds()
    {
        var run = await Leasehold.Tests.Support.CliProcess.RunAsync("bench", "--mode", "causal", "--protocol", "hydro-opt", "--rounds", "2", "--history", "unused.jsonl", "--duration", "0.1", "--quiet");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--rounds 1", run.Stderr);
    }
}
