using Leasehold.Tests.Support;

namespace Leasehold.Tests.Cli;

/// <summary>
/// `leasehold check` on input it cannot check: one line naming the file, the real (1-based) line, and what a
/// history should look like, or which --model the history was written for; exit 2.
/// </summary>
public sealed class CheckInputErrorTests : IDisposable
{
    private const string ListAppendHistory =
        "{\"index\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"txn\",\"value\":[[\"append\",1,1]],\"time\":1}\n" +
        "{\"index\":1,\"process\":0,\"type\":\"ok\",\"f\":\"txn\",\"value\":[[\"append\",1,1]],\"time\":2}\n";
    private const string CausalHistory =
        "{\"process\":0,\"seq\":0,\"workflow\":0,\"function\":0,\"parents\":[],\"type\":\"ok\",\"ops\":[{\"f\":\"w\",\"k\":\"k1\",\"v\":1}]}\n";

    private readonly string _dir = Directory.CreateTempSubdirectory("leasehold-check-input-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private static string RefusedLine(CliProcess.Outcome run)
    {
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Stdout}{run.Stderr}");
        return Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("serializable", "\"index\"")]
    [InlineData("causal", "\"workflow\"")]
    public async Task A_text_file_names_the_file_the_real_line_the_column_and_the_expected_shape(string model, string example)
    {
        string path = Write("notes.txt", "\n\n  hello\n"u8.ToArray());
        string line = RefusedLine(await CliProcess.RunAsync("check", "--model", model, path));
        Assert.Contains(path, line);
        Assert.Contains("line 3: not valid JSON at column 3", line);
        Assert.Contains("one JSON object a line, like {", line);
        Assert.Contains(example, line);
        Assert.DoesNotContain("LineNumber", line); // the JSON reader's own count, always 0 for the one line it reads
    }

    [Fact]
    public async Task A_binary_file_is_named_binary()
    {
        string path = Write("program", [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, 0, 0, (byte)'\n', 0xFF, 0xFE]);
        string line = RefusedLine(await CliProcess.RunAsync("check", path));
        Assert.Contains($"{path}: line 1: binary data, not text", line);
    }

    [Theory]
    [InlineData("serializable")]
    [InlineData("causal")]
    public async Task An_empty_file_is_named_empty(string model)
    {
        string path = Write("empty.jsonl", []);
        Assert.Contains($"{path}: the file is empty", RefusedLine(await CliProcess.RunAsync("check", "--model", model, path)));
    }

    [Fact]
    public async Task A_serializable_history_under_the_causal_model_points_to_the_serializable_model()
    {
        string path = Write("list-append.jsonl", System.Text.Encoding.UTF8.GetBytes(ListAppendHistory));
        Assert.Contains("this looks like a serializable history", RefusedLine(await CliProcess.RunAsync("check", "--model", "causal", path)));
        // From a pipe, too: the history is read again to judge its shape.
        var piped = await CliProcess.RunWithStdinAsync(ListAppendHistory, "check", "--model", "causal", "/dev/stdin");
        Assert.Contains("use --model serializable", RefusedLine(piped));
    }

    [Fact]
    public async Task A_causal_history_under_the_serializable_model_points_to_the_causal_model()
    {
        string path = Write("causal.jsonl", System.Text.Encoding.UTF8.GetBytes(CausalHistory));
        string line = RefusedLine(await CliProcess.RunAsync("check", path));
        Assert.Contains("this looks like a causal history", line);
        Assert.Contains("use --model causal", line);
        // The right model checks it.
        var run = await CliProcess.RunAsync("check", "--model", "causal", path);
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
    }
}
