using System.Text.Json;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Checkers.Causal;

/// <summary>`leasehold check --model causal` end to end, through the real command line.</summary>
public sealed class CausalCheckCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("leasehold-causal-check-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string WriteX1 = """{"process":0,"seq":0,"workflow":1,"function":0,"parents":[],"type":"ok","server":0,"ops":[{"f":"w","k":"x","v":1}]}""";
    private const string WriteX2 = """{"process":1,"seq":0,"workflow":2,"function":0,"parents":[],"type":"ok","server":1,"ops":[{"f":"w","k":"x","v":2}]}""";
    private const string Read12 = """{"process":2,"seq":0,"workflow":3,"function":0,"parents":[],"type":"ok","server":2,"ops":[{"f":"r","k":"x","v":1},{"f":"r","k":"x","v":2}]}""";
    private const string Read21 = """{"process":3,"seq":0,"workflow":4,"function":0,"parents":[],"type":"ok","server":3,"ops":[{"f":"r","k":"x","v":2},{"f":"r","k":"x","v":1}]}""";
    private const string ReadX1ThenInit = """{"process":2,"seq":0,"workflow":3,"function":0,"parents":[],"type":"ok","server":2,"ops":[{"f":"r","k":"x","v":1},{"f":"r","k":"x","v":null}]}""";

    private string Write(string name, params string[] lines)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public async Task A_valid_history_exits_0_and_says_valid()
    {
        var run = await CliProcess.RunAsync("check", "--model", "causal", Write("ok.jsonl", WriteX1, WriteX2, Read12));
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Contains("valid", run.Stdout);
        Assert.Contains("causal consistency (CC)", run.Stdout);
    }

    [Fact]
    public async Task A_violation_exits_1_with_a_table_the_explanation_and_the_records()
    {
        var run = await CliProcess.RunAsync("check", "--model", "causal", Write("bad.jsonl", WriteX1, ReadX1ThenInit));
        Assert.True(run.ExitCode == 1, run.Stdout + run.Stderr);
        Assert.Contains("INVALID", run.Stdout);
        Assert.Contains("WriteCOInitRead", run.Stdout);
        Assert.Contains("W3/f0 op 1 r(x)=init", run.Stdout);
        Assert.Contains(WriteX1, run.Stdout);
    }

    [Fact]
    public async Task Convergence_is_checked_only_when_asked()
    {
        string path = Write("diverge.jsonl", WriteX1, WriteX2, Read12, Read21);
        var cc = await CliProcess.RunAsync("check", "--model", "causal", path);
        Assert.True(cc.ExitCode == 0, cc.Stdout + cc.Stderr);
        string json = Path.Combine(_dir, "v.json");
        var ccv = await CliProcess.RunAsync("check", "--model", "causal", "--convergence", "--json", json, path);
        Assert.True(ccv.ExitCode == 1, ccv.Stdout + ccv.Stderr);
        Assert.Contains("CyclicCF", ccv.Stdout);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        Assert.Equal("causal-convergence", root.GetProperty("model").GetString());
        Assert.False(root.GetProperty("valid").GetBoolean());
        Assert.Equal(4, root.GetProperty("workflows").GetInt64());
        Assert.Equal(1, root.GetProperty("anomalies").GetProperty("CyclicCF").GetInt64());
        Assert.Equal(0, root.GetProperty("anomalies").GetProperty("WriteCORead").GetInt64());
        Assert.Equal("CyclicCF", root.GetProperty("examples")[0].GetProperty("kind").GetString());
        Assert.True(root.GetProperty("examples")[0].GetProperty("records").GetArrayLength() >= 2);
    }

    [Fact]
    public async Task A_history_piped_through_stdin_is_checked_like_a_file()
    {
        var run = await CliProcess.RunWithStdinAsync(WriteX1 + "\n" + ReadX1ThenInit + "\n", "check", "--model", "causal", "/dev/stdin");
        Assert.True(run.ExitCode == 1, run.Stdout + run.Stderr);
        Assert.Contains("WriteCOInitRead", run.Stdout);
    }

    [Theory]
    [InlineData("dup", "line 2: op 0 writes 1 to key x, which W1/f0 (line 1) already wrote")]
    [InlineData("json", "line 2: not valid JSON")]
    [InlineData("parent", "line 2: parent 3 of function 1 is out of range")]
    [InlineData("empty", "no function executions")]
    public async Task Unusable_input_exits_2_with_one_line_naming_the_cause(string what, string says)
    {
        string[] lines = what switch
        {
            "dup" => [WriteX1, WriteX1.Replace("\"workflow\":1", "\"workflow\":9").Replace("\"seq\":0", "\"seq\":1")],
            "json" => [WriteX1, "{\"process\":"],
            "parent" => [WriteX1, WriteX1.Replace("\"function\":0,\"parents\":[]", "\"function\":1,\"parents\":[3]")],
            _ => [],
        };
        var run = await CliProcess.RunAsync("check", "--model", "causal", Write($"{what}.jsonl", lines));
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(says, run.Stderr);
        Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Flags_of_the_other_model_are_usage_errors()
    {
        string path = Write("ok.jsonl", WriteX1);
        Assert.Equal(2, (await CliProcess.RunAsync("check", "--model", "causal", "--strict", path)).ExitCode);
        Assert.Equal(2, (await CliProcess.RunAsync("check", "--convergence", path)).ExitCode);
        // A causal history is not a list-append one: the serializable model refuses it, naming the line.
        var wrong = await CliProcess.RunAsync("check", path);
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("line 1", wrong.Stderr);
    }
}
