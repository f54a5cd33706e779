using Leasehold.Checkers.Histories;
using Leasehold.Checkers.ListAppend;

namespace Leasehold.Tests.Checkers;

/// <summary>
/// Histories that cannot be checked are refused with a <see cref="HistoryFormatException"/> naming the
/// line, read through <see cref="FileHistory"/> from a real file so the line numbers are real.
/// </summary>
public sealed class HistoryFormatTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("leasehold-history-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string AppendX = """[["append",1,5]]""";
    private const string ReadXUnknown = """[["r",1,null]]""";

    private static string Op(long index, long process, string type, string value) =>
        $$"""{"index":{{index}},"process":{{process}},"type":"{{type}}","f":"txn","value":{{value}},"time":{{index * 10}}}""";

    private string File(params string[] lines)
    {
        string path = Path.Combine(_dir, $"h{Guid.NewGuid():N}.jsonl");
        System.IO.File.WriteAllText(path, string.Join("\n", lines) + "\n");
        return path;
    }

    /// <summary>Checking the file fails on <paramref name="line"/> with a message containing <paramref name="says"/>.</summary>
    private void Refused(long line, string says, params string[] lines)
    {
        var history = new FileHistory(File(lines));
        var e = Assert.Throws<HistoryFormatException>(() => new ListAppendChecker().Check(history));
        Assert.Equal(line, e.Line);
        Assert.Contains($"line {line}", e.Message, StringComparison.Ordinal);
        Assert.Contains(says, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_well_formed_file_checks()
    {
        var r = new ListAppendChecker(new CheckerOptions { Strict = true }).Check(new FileHistory(File(
            Op(0, 0, "invoke", AppendX),
            Op(1, 0, "ok", AppendX),
            "",
            Op(2, 1, "invoke", ReadXUnknown),
            Op(3, 1, "ok", """[["r",1,[5]]]"""))));
        Verdict.Valid(r);
        Assert.Equal(2, r.Committed);
    }

    [Fact]
    public void Not_json() =>
        Refused(2, "not valid JSON", Op(0, 0, "invoke", AppendX), """{"index":1,"process":0,""", Op(2, 0, "ok", AppendX));

    [Fact]
    public void Not_an_object() => Refused(1, "expected a JSON object", "[1,2,3]");

    [Fact]
    public void Trailing_text_after_the_object() => Refused(1, "JSON", Op(0, 0, "invoke", AppendX) + " {}");

    [Theory]
    [InlineData("index")]
    [InlineData("process")]
    [InlineData("type")]
    [InlineData("f")]
    [InlineData("value")]
    public void Missing_field(string field)
    {
        var fields = new Dictionary<string, string>
        {
            ["index"] = "1", ["process"] = "0", ["type"] = "\"ok\"", ["f"] = "\"txn\"", ["value"] = AppendX, ["time"] = "5",
        };
        fields.Remove(field);
        string line = "{" + string.Join(",", fields.Select(kv => $"\"{kv.Key}\":{kv.Value}")) + "}";
        Refused(2, $"missing \"{field}\"", Op(0, 0, "invoke", AppendX), line);
    }

    [Fact]
    public void Operations_of_a_nemesis_are_skipped_as_Jepsen_and_Elle_do()
    {
        // Regression: a Jepsen history names its fault injector's process "nemesis" (a string) and gives it its own
        // functions; the whole file was refused at the first such line. Elle checks client operations only.
        var r = new ListAppendChecker(new CheckerOptions { Strict = true }).Check(new FileHistory(File(
            """{"index":0,"process":"nemesis","type":"info","f":"start-partition","value":null,"time":0}""",
            Op(1, 0, "invoke", AppendX),
            """{"index":2,"process":"nemesis","type":"info","f":"start-partition","value":[["n1","n2"],["n3"]],"time":1}""",
            Op(3, 0, "ok", AppendX),
            Op(4, 1, "invoke", ReadXUnknown),
            Op(5, 1, "ok", """[["r",1,[5]]]"""))));
        Verdict.Valid(r);
        Assert.Equal(2, r.Committed);
        // A client's process must still be a number.
        Refused(1, "\"process\" must be an integer", Op(0, 0, "invoke", AppendX).Replace("\"process\":0", "\"process\":0.5", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(6)]
    public void A_history_that_reads_differently_the_second_time_is_refused(int secondTime)
    {
        // Regression: a pipe reads empty on the second pass (every read went unchecked: valid), a file being
        // written grows (an index out of range). Either way the history is not checkable as it stands.
        string[] lines =
        [
            Op(0, 0, "invoke", AppendX), Op(1, 0, "ok", AppendX),
            Op(2, 1, "invoke", ReadXUnknown), Op(3, 1, "ok", """[["r",1,[]]]"""),
            Op(4, 2, "invoke", AppendX.Replace("5", "6", StringComparison.Ordinal)), Op(5, 2, "ok", AppendX.Replace("5", "6", StringComparison.Ordinal)),
        ];
        var history = new ChangingHistory([.. lines.Take(4).Select((l, i) => HistoryJson.Parse(System.Text.Encoding.UTF8.GetBytes(l), i + 1)!)],
            [.. lines.Take(secondTime).Select((l, i) => HistoryJson.Parse(System.Text.Encoding.UTF8.GetBytes(l), i + 1)!)]);
        var e = Assert.Throws<HistoryFormatException>(() => new ListAppendChecker(new CheckerOptions { Strict = true }).Check(history));
        Assert.Contains("second pass", e.Message, StringComparison.Ordinal);
    }

    private sealed class ChangingHistory(List<HistoryOp> first, List<HistoryOp> later) : IHistorySource
    {
        private int _reads;
        public string Name => "changing";
        public IEnumerable<HistoryOp> Read() => _reads++ == 0 ? first : later;
    }

    [Fact]
    public void Time_is_optional()
    {
        var r = new ListAppendChecker().Check(new FileHistory(File(
            """{"index":0,"process":0,"type":"invoke","f":"txn","value":[["append",1,5]]}""",
            """{"index":1,"process":0,"type":"ok","f":"txn","value":[["append",1,5]]}""")));
        Verdict.Valid(r);
    }

    [Fact]
    public void Bad_type() => Refused(1, "\"type\" must be invoke, ok, fail or info, not \"done\"", Op(0, 0, "done", AppendX));

    [Fact]
    public void Type_not_a_string() => Refused(1, "\"type\" must be a string", Op(0, 0, "invoke", AppendX).Replace("\"invoke\"", "3", StringComparison.Ordinal));

    [Fact]
    public void Other_functions_than_txn_are_refused() =>
        Refused(1, "\"f\" is \"read\"", Op(0, 0, "invoke", AppendX).Replace("\"txn\"", "\"read\"", StringComparison.Ordinal));

    [Fact]
    public void Index_not_an_integer() =>
        Refused(1, "\"index\" must be an integer", Op(0, 0, "invoke", AppendX).Replace("\"index\":0", "\"index\":0.5", StringComparison.Ordinal));

    [Fact]
    public void Unknown_micro_op() => Refused(1, "unknown operation \"write\"", Op(0, 0, "invoke", """[["r",1,null],["write",1,2]]"""));

    [Theory]
    [InlineData("""[["append",1]]""", "micro-operation 0's appended value\" must be an integer")]
    [InlineData("""[["append",1,2,3]]""", "more than three elements")]
    [InlineData("""[["r","x",null]]""", "micro-operation 0's key\" must be an integer")]
    [InlineData("""[["r",1,7]]""", "a read's result is a list or null")]
    [InlineData("""[[]]""", "names the operation")]
    [InlineData("""[{"append":1}]""", "must be a list like")]
    [InlineData("""{"append":1}""", "\"value\" must be a list of micro-operations")]
    public void Malformed_micro_ops(string value, string says) => Refused(1, says, Op(0, 0, "invoke", value));

    [Fact]
    public void A_read_element_that_is_not_an_integer() =>
        Refused(2, "micro-operation 0's read element\" must be an integer", Op(0, 0, "invoke", ReadXUnknown), Op(1, 0, "ok", """[["r",1,[1,"two"]]]"""));

    [Fact]
    public void An_invocation_with_a_read_result() =>
        Refused(1, "an invocation carries the result of r(1) = [5]", Op(0, 0, "invoke", """[["r",1,[5]]]"""));

    [Fact]
    public void A_process_invoking_twice_without_completing() =>
        Refused(3, "process 0 invokes while its operation of line 1 is still in flight",
            Op(0, 0, "invoke", AppendX), Op(1, 1, "invoke", ReadXUnknown), Op(2, 0, "invoke", ReadXUnknown));

    [Fact]
    public void Completing_with_nothing_in_flight() =>
        Refused(3, "process 0 completes (ok) with no operation in flight",
            Op(0, 0, "invoke", AppendX), Op(1, 0, "ok", AppendX), Op(2, 0, "ok", AppendX));

    [Fact]
    public void Reusing_a_process_after_info() =>
        Refused(4, "process 0 ended with info at line 2 and is retired",
            Op(0, 0, "invoke", AppendX), Op(1, 0, "info", AppendX), "", Op(2, 0, "invoke", ReadXUnknown));

    [Fact]
    public void A_completion_whose_micro_ops_differ_from_its_invocation() =>
        Refused(2, "micro-operation 0 is append(1, 6), but its invocation (line 1) says append(1, 5)",
            Op(0, 0, "invoke", AppendX), Op(1, 0, "ok", """[["append",1,6]]"""));

    [Fact]
    public void A_completion_with_a_different_number_of_micro_ops() =>
        Refused(2, "the completion has 2 micro-operations, its invocation (line 1) 1",
            Op(0, 0, "invoke", AppendX), Op(1, 0, "ok", """[["append",1,5],["r",1,[5]]]"""));

    [Fact]
    public void An_ok_completion_with_a_null_read() =>
        Refused(2, "an ok completion must carry every read's result",
            Op(0, 0, "invoke", ReadXUnknown), Op(1, 0, "ok", ReadXUnknown));

    [Fact]
    public void An_ok_completion_with_a_null_value() =>
        Refused(2, "missing \"value\"", Op(0, 0, "invoke", AppendX), Op(1, 0, "ok", "null"));

    [Fact]
    public void Fail_and_info_completions_may_omit_their_value()
    {
        var r = new ListAppendChecker().Check(new FileHistory(File(
            Op(0, 0, "invoke", AppendX), Op(1, 0, "fail", "null"),
            Op(2, 1, "invoke", """[["append",1,6]]"""), Op(3, 1, "info", "[]"),
            Op(4, 2, "invoke", ReadXUnknown), Op(5, 2, "ok", """[["r",1,[6]]]"""))));
        Verdict.Valid(r);
        Assert.Equal(1, r.Failed);
        Assert.Equal(1, r.UnknownObserved);
    }

    [Fact]
    public void Decreasing_index() =>
        Refused(3, "index 1 does not follow 2: indices must increase",
            Op(0, 0, "invoke", AppendX), Op(2, 0, "ok", AppendX), Op(1, 1, "invoke", ReadXUnknown));

    [Fact]
    public void A_repeated_index() =>
        Refused(2, "index 0 does not follow 0", Op(0, 0, "invoke", AppendX), Op(0, 0, "ok", AppendX));

    [Fact]
    public void Line_numbers_count_blank_lines_and_crlf_endings()
    {
        string path = Path.Combine(_dir, "crlf.jsonl");
        System.IO.File.WriteAllText(path, Op(0, 0, "invoke", AppendX) + "\r\n\r\n  \r\n" + Op(1, 0, "ok", AppendX) + "\r\nnope\r\n");
        var e = Assert.Throws<HistoryFormatException>(() => new FileHistory(path).Read().ToList());
        Assert.Equal(5, e.Line);
        Assert.StartsWith("line 5: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_last_line_needs_no_newline()
    {
        string path = Path.Combine(_dir, "nonl.jsonl");
        System.IO.File.WriteAllText(path, Op(0, 0, "invoke", AppendX) + "\n" + Op(1, 0, "ok", AppendX));
        var ops = new FileHistory(path).Read().ToList();
        Assert.Equal([1L, 2L], ops.Select(o => o.Line));
        System.IO.File.WriteAllText(path, Op(0, 0, "invoke", AppendX) + "\n{");
        Assert.Equal(2, Assert.Throws<HistoryFormatException>(() => new FileHistory(path).Read().ToList()).Line);
    }

    [Fact]
    public void Extra_jepsen_fields_are_ignored()
    {
        var r = new ListAppendChecker().Check(new FileHistory(File(
            """{"index":0,"process":0,"type":"invoke","f":"txn","value":[["append",1,5]],"time":1,"node":"n1","extra":{"a":[1,{"b":null}]}}""",
            """{"type":"ok","f":"txn","error":null,"value":[["append",1,5]],"process":0,"index":1}""")));
        Verdict.Valid(r);
    }

    [Fact]
    public void A_missing_file_is_a_format_error_without_a_line()
    {
        var e = Assert.Throws<HistoryFormatException>(() => new FileHistory(Path.Combine(_dir, "absent.jsonl")).Read().ToList());
        Assert.Equal(0, e.Line);
        Assert.Contains("cannot read", e.Message, StringComparison.Ordinal);
        Assert.False(e.Message.StartsWith("line", StringComparison.Ordinal), e.Message);
    }
}
