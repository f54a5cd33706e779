using Leasehold.Checkers.Causal;
using Leasehold.Checkers.Histories;

namespace Leasehold.Tests.Checkers.Causal;

/// <summary>
/// Causal histories that cannot be checked are refused with a <see cref="HistoryFormatException"/> naming
/// the line and what is wrong, read through <see cref="CausalFileHistory"/> from a real file.
/// </summary>
public sealed class CausalHistoryFormatTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("leasehold-causal-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Line(long process, long seq, long workflow, int function, string parents = "[]", string type = "ok", string ops = "[]") =>
        $$"""{"process":{{process}},"seq":{{seq}},"workflow":{{workflow}},"function":{{function}},"parents":{{parents}},"type":"{{type}}","server":0,"ops":{{ops}}}""";

    private string File(params string[] lines)
    {
        string path = Path.Combine(_dir, $"h{Guid.NewGuid():N}.jsonl");
        System.IO.File.WriteAllText(path, string.Join("\n", lines) + "\n");
        return path;
    }

    private void Refused(long line, string says, params string[] lines)
    {
        var history = new CausalFileHistory(File(lines));
        var e = Assert.Throws<HistoryFormatException>(() => new CausalChecker().Check(history));
        Assert.True(e.Line == line, $"line {e.Line}, expected {line}: {e.Message}");
        Assert.StartsWith($"line {line}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(says, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_well_formed_file_checks_with_blank_lines_and_unknown_fields_skipped()
    {
        var r = new CausalChecker().Check(new CausalFileHistory(File(
            Line(0, 0, 1, 0, ops: """[{"f":"w","k":"k1","v":5}]"""),
            "",
            """{"process":1,"seq":0,"workflow":2,"function":0,"parents":[],"type":"ok","ops":[{"f":"r","k":"k1","v":5,"t":3}],"time":99}""",
            """{"ops":[{"v":null,"k":"k2","f":"r"}],"type":"ok","parents":[0],"function":1,"workflow":2,"seq":0,"process":1}""")));
        CausalVerdict.Valid(r);
        Assert.Equal(3, r.Functions);
    }

    [Fact]
    public void Not_json() => Refused(2, "not valid JSON", Line(0, 0, 1, 0), """{"process":0,"seq":""", Line(0, 1, 2, 0));

    [Fact]
    public void Not_an_object() => Refused(1, "expected a JSON object", "[1,2]");

    [Fact]
    public void Trailing_text() => Refused(1, "JSON", Line(0, 0, 1, 0) + " {}");

    [Theory]
    [InlineData("process")]
    [InlineData("seq")]
    [InlineData("workflow")]
    [InlineData("function")]
    [InlineData("parents")]
    [InlineData("type")]
    [InlineData("ops")]
    public void Missing_field(string field)
    {
        var fields = new Dictionary<string, string>
        {
            ["process"] = "0", ["seq"] = "1", ["workflow"] = "2", ["function"] = "0", ["parents"] = "[]", ["type"] = "\"ok\"", ["ops"] = "[]",
        };
        fields.Remove(field);
        Refused(3, $"missing \"{field}\"", Line(0, 0, 1, 0), "", "{" + string.Join(",", fields.Select(kv => $"\"{kv.Key}\":{kv.Value}")) + "}");
    }

    [Theory]
    [InlineData("""{"process":"p0","seq":0,"workflow":1,"function":0,"parents":[],"type":"ok","ops":[]}""", "\"process\" must be an integer")]
    [InlineData("""{"process":0,"seq":-1,"workflow":1,"function":0,"parents":[],"type":"ok","ops":[]}""", "\"seq\" must be 0 or more")]
    [InlineData("""{"process":0,"seq":0,"workflow":1,"function":0,"parents":[],"type":"info","ops":[]}""", "\"type\" must be \"ok\" or \"fail\"")]
    [InlineData("""{"process":0,"seq":0,"workflow":1,"function":0,"parents":{},"type":"ok","ops":[]}""", "\"parents\" must be a list")]
    [InlineData("""{"process":0,"seq":0,"workflow":1,"function":0,"parents":[],"type":"ok","ops":{}}""", "\"ops\" must be a list")]
    [InlineData("""{"process":0,"seq":0,"workflow":1,"function":0,"parents":[],"type":"ok","ops":[["r","k",1]]}""", "op 0 must be an object")]
    [InlineData("""{"process":0,"seq":0,"workflow":1,"function":0,"parents":[],"type":"ok","ops":[{"f":"x","k":"k","v":1}]}""", "op 0: unknown operation \"x\"")]
    [InlineData("""{"process":0,"seq":0,"workflow":1,"function":0,"parents":[],"type":"ok","ops":[{"f":"r","k":3,"v":1}]}""", "op 0: \"k\" (the key) must be a string")]
    [InlineData("""{"process":0,"seq":0,"workflow":1,"function":0,"parents":[],"type":"ok","ops":[{"f":"r","k":"k"}]}""", "op 0: missing \"v\"")]
    [InlineData("""{"process":0,"seq":0,"workflow":1,"function":0,"parents":[],"type":"ok","ops":[{"f":"r","k":"k","v":1},{"f":"w","k":"k","v":null}]}""", "op 1: a write's \"v\" must be an integer, not null")]
    [InlineData("""{"process":0,"seq":0,"workflow":1,"function":0,"parents":[],"type":"ok","ops":[{"f":"w","k":"k","v":1.5}]}""", "op 0: \"v\" must be an integer or null")]
    public void A_malformed_field_is_named(string line, string says) => Refused(2, says, Line(5, 0, 9, 0), line);

    [Theory]
    [InlineData("[2]", 2, "parent 2 of function 2 is out of range")]
    [InlineData("[-1]", 1, "parent -1 of function 1 is out of range")]
    [InlineData("[0,0]", 1, "parent 0 is listed twice")]
    public void A_parent_must_come_before_its_child(string parents, int function, string says) =>
        Refused(2, says, Line(0, 0, 1, 0), Line(0, 0, 1, function, parents));

    [Fact]
    public void A_function_recorded_twice() =>
        Refused(3, "function 0 of workflow 1 is recorded twice (also at line 1)", Line(0, 0, 1, 0), Line(0, 1, 2, 0), Line(0, 0, 1, 0));

    [Fact]
    public void A_workflow_whose_records_disagree_on_its_session() =>
        Refused(2, "workflow 1 is process 0 seq 1 here but process 0 seq 0 at line 1", Line(0, 0, 1, 0), Line(0, 1, 1, 1, "[0]"));

    [Fact]
    public void Two_workflows_in_one_session_place() =>
        Refused(2, "workflow 2 is process 0's seq 0, but so is workflow 1 (line 1)", Line(0, 0, 1, 0), Line(0, 0, 2, 0));

    [Fact]
    public void A_value_written_twice_to_one_key_makes_the_history_unusable()
    {
        Refused(3, "op 1 writes 7 to key k1, which W1/f0 (line 1) already wrote: written values must be unique per key",
            Line(0, 0, 1, 0, ops: """[{"f":"w","k":"k1","v":7}]"""),
            Line(1, 0, 2, 0, ops: """[{"f":"r","k":"k1","v":7}]"""),
            Line(2, 0, 3, 0, ops: """[{"f":"w","k":"k2","v":7},{"f":"w","k":"k1","v":7}]"""));
        // Also when the first writer aborted: a read of 7 could not be attributed.
        Refused(2, "already wrote", Line(0, 0, 1, 0, type: "fail", ops: """[{"f":"w","k":"k1","v":7}]"""), Line(1, 0, 2, 0, ops: """[{"f":"w","k":"k1","v":7}]"""));
        // The same value under two keys is fine.
        CausalVerdict.Valid(new CausalChecker().Check(new CausalFileHistory(File(
            Line(0, 0, 1, 0, ops: """[{"f":"w","k":"k1","v":7}]"""), Line(1, 0, 2, 0, ops: """[{"f":"w","k":"k2","v":7}]""")))));
    }

    [Fact]
    public void A_missing_file_is_named() =>
        Assert.Contains("cannot read", Assert.Throws<HistoryFormatException>(() => new CausalChecker().Check(new CausalFileHistory(Path.Combine(_dir, "absent")))).Message);

    [Fact]
    public void Too_many_chains_for_the_memory_limit_is_refused_with_the_reason()
    {
        var lines = Enumerable.Range(0, 50).Select(p => Line(p, 0, p + 1, 0, ops: $$"""[{"f":"w","k":"k","v":{{p}}}]""")).ToArray();
        var e = Assert.Throws<HistoryFormatException>(() =>
            new CausalChecker(new CausalCheckerOptions { MaxVectorClockBytes = 1000 }).Check(new CausalFileHistory(File(lines))));
        Assert.Contains("50 chains", e.Message);
        Assert.Contains("client sessions", e.Message);
    }

    [Fact]
    public void Records_round_trip_through_the_writer_and_the_recorder()
    {
        var records = new[]
        {
            new CausalRecord(3, 5, 17, 2, [0, 1], true, [CausalOp.Read("k1", 5), CausalOp.Write("k2", 42), CausalOp.Read("k9", null)]) { Server = 1 },
            new CausalRecord(-1, 0, long.MaxValue, 0, [], false, []),
        };
        Assert.Equal(
            """{"process":3,"seq":5,"workflow":17,"function":2,"parents":[0,1],"type":"ok","server":1,"ops":[{"f":"r","k":"k1","v":5},{"f":"w","k":"k2","v":42},{"f":"r","k":"k9","v":null}]}""",
            CausalHistoryJson.ToLine(records[0]));
        string path = Path.Combine(_dir, "recorded.jsonl");
        using (var recorder = new CausalHistoryRecorder(System.IO.File.Create(path)))
            foreach (var r in records) recorder.Record(r);
        var back = new CausalFileHistory(path).Read().ToList();
        Assert.Equal(2, back.Count);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(CausalHistoryJson.ToLine(records[i]), CausalHistoryJson.ToLine(back[i]));
            Assert.Equal(i + 1, back[i].Line);
        }
        Assert.Equal(records[0].Ops, back[0].Ops);
        Assert.Null(back[1].Server);
    }

    [Fact]
    public void The_transaction_flag_round_trips_and_is_written_only_when_true()
    {
        var txn = new CausalRecord(0, 0, 1, 0, [], true, [CausalOp.Write("k1", 5)]) { Transaction = true };
        string line = CausalHistoryJson.ToLine(txn);
        Assert.Contains("\"txn\":true", line);
        Assert.DoesNotContain("txn", CausalHistoryJson.ToLine(txn with { Transaction = false }));
        Assert.True(CausalHistoryJson.Parse(System.Text.Encoding.UTF8.GetBytes(line), 1).Transaction);
        var plain = """{"process":0,"seq":0,"workflow":1,"function":0,"parents":[],"type":"ok","txn":false,"ops":[]}""";
        Assert.False(CausalHistoryJson.Parse(System.Text.Encoding.UTF8.GetBytes(plain), 1).Transaction);
        // The checker's records keep the flag (the anomaly's records are rebuilt from the model).
        var r = new CausalChecker().Check(new CausalFileHistory(File(line, Line(1, 0, 2, 0, ops: """[{"f":"w","k":"k1","v":6}]"""), Line(2, 0, 3, 0, ops: """[{"f":"r","k":"k1","v":5}]"""))));
        CausalVerdict.Valid(r);
        Assert.Equal(1, r.Transactions);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("\"true\"")]
    [InlineData("null")]
    public void A_transaction_flag_that_is_not_a_boolean_is_named(string value) =>
        Refused(2, "\"txn\" must be true or false", Line(0, 0, 1, 0),
            $$"""{"process":1,"seq":0,"workflow":2,"function":0,"parents":[],"type":"ok","txn":{{value}},"ops":[]}""");

    [Fact]
    public void The_functions_of_one_workflow_agree_on_whether_it_is_a_transaction() =>
        Refused(2, "function 1 of workflow 1 has \"txn\":false but its record at line 1 has \"txn\":true",
            """{"process":0,"seq":0,"workflow":1,"function":0,"parents":[],"type":"ok","txn":true,"ops":[]}""", Line(0, 0, 1, 1, "[0]"));

    [Fact]
    public void The_bench_s_history_writer_copies_the_transaction_flag()
    {
        var engine = new Leasehold.Runtime.Causal.CausalFunctionRecord(0, 0, 1, 0, [], true, 0,
            [new Leasehold.Runtime.Causal.CausalOp(true, new StateKey("t", "k"), Value.FromLong(5))]) { Transaction = true };
        Assert.True(Leasehold.Cli.Bench.Causal.CausalHistoryWriter.ToChecker(engine).Transaction);
        Assert.False(Leasehold.Cli.Bench.Causal.CausalHistoryWriter.ToChecker(engine with { Transaction = false }).Transaction);
    }
}
