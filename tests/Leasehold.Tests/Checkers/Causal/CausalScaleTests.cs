using Leasehold.Checkers.Causal;

namespace Leasehold.Tests.Checkers.Causal;

/// <summary>
/// The scale history's generator, checked small here. Its full size is for measuring the CLI from the command line
/// (never timed in a test): <c>LEASEHOLD_CAUSAL_SCALE_FILE=/tmp/causal-200k.jsonl dotnet test -c Release --no-build
/// --filter FullyQualifiedName~CausalScaleTests.Writes</c> (LEASEHOLD_CAUSAL_SCALE_WORKFLOWS and _PROCESSES change the
/// size), then <c>/usr/bin/time -v ./leasehold check --model causal FILE</c>.
/// </summary>
public sealed class CausalScaleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("leasehold-causal-scale-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_small_scale_history_is_valid_and_has_the_promised_shape()
    {
        string path = Path.Combine(_dir, "small.jsonl");
        CausalScaleHistory.Write(path, workflows: 3000, keys: 1000);
        var r = new CausalChecker(new CausalCheckerOptions { Convergence = true }).Check(new CausalFileHistory(path));
        CausalVerdict.Valid(r);
        Assert.Equal(3000, r.Workflows);
        Assert.Equal(9000, r.Functions);
        Assert.Equal(12_000, r.Reads);
        Assert.Equal(3000, r.Writes);
        Assert.Equal(32, r.Chains); // 16 processes × 2 lanes (f0 ∥ f1)
    }

    [Fact]
    public void A_small_scale_history_with_one_stale_read_is_flagged()
    {
        // The negative control: the generator's history stays checkable after a corruption, and one stale read shows.
        string path = Path.Combine(_dir, "small.jsonl");
        CausalScaleHistory.Write(path, workflows: 3000, keys: 50);
        var lines = File.ReadAllLines(path);
        // The last record that reads a key some earlier record (of the same process) already read a written value of:
        // making it read the initial value goes back on what its session saw.
        var records = lines.Select((l, i) => CausalHistoryJson.Parse(System.Text.Encoding.UTF8.GetBytes(l), i + 1)).ToList();
        int target = records.FindLastIndex(r => r.Ops[0].Kind == CausalOpKind.Read && r.Ops[0].Value is not null && r.Seq > 0
            && records.Take(records.IndexOf(r)).Any(e => e.Process == r.Process && e.Seq < r.Seq && e.Ops.Any(o => o.Key == r.Ops[0].Key && o.Value is not null)));
        Assert.True(target >= 0);
        var t = records[target];
        var ops = (CausalOp[])t.Ops.Clone();
        ops[0] = CausalOp.Read(ops[0].Key, null);
        lines[target] = CausalHistoryJson.ToLine(t with { Ops = ops });
        File.WriteAllLines(path, lines);
        var r = new CausalChecker().Check(new CausalFileHistory(path));
        CausalVerdict.Flags(r, CausalAnomalyKinds.WriteCOInitRead);
    }

    [SkippableFact]
    public void Writes_the_scale_history_when_asked()
    {
        string? path = Environment.GetEnvironmentVariable("LEASEHOLD_CAUSAL_SCALE_FILE");
        Skip.If(string.IsNullOrEmpty(path), "set LEASEHOLD_CAUSAL_SCALE_FILE to write the 200,000-workflow history there");
        int workflows = int.TryParse(Environment.GetEnvironmentVariable("LEASEHOLD_CAUSAL_SCALE_WORKFLOWS"), out int n) ? n : 200_000;
        int processes = int.TryParse(Environment.GetEnvironmentVariable("LEASEHOLD_CAUSAL_SCALE_PROCESSES"), out int p) ? p : 16;
        CausalScaleHistory.Write(path, workflows, processes);
        Assert.Equal(3L * workflows, File.ReadLines(path).LongCount());
    }
}
