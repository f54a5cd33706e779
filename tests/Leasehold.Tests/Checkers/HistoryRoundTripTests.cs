using CsCheck;
using Leasehold.Checkers.Histories;
using Leasehold.Checkers.ListAppend;
using static Leasehold.Tests.Checkers.HistoryBuilder;

namespace Leasehold.Tests.Checkers;

/// <summary>What <see cref="HistoryRecorder"/> writes, <see cref="FileHistory"/> reads back unchanged, in Jepsen's shape.</summary>
public sealed class HistoryRoundTripTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("leasehold-roundtrip-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Replays <paramref name="ops"/> through a recorder writing to a file (and memory); returns the path and the recorded ops.</summary>
    private (string Path, IReadOnlyList<HistoryOp> Recorded) Record(IReadOnlyList<HistoryOp> ops)
    {
        string path = Path.Combine(_dir, $"h{Guid.NewGuid():N}.jsonl");
        long now = 0;
        using var recorder = new HistoryRecorder(File.Create(path), () => now, keepInMemory: true);
        foreach (var op in ops)
        {
            now = op.TimeNs;
            if (op.Type == OpType.Invoke) recorder.Invoke(op.Process, op.Value);
            else recorder.Complete(op.Process, op.Type, op.Value);
        }
        Assert.Equal(ops.Count, recorder.Count);
        var recorded = recorder.Ops.ToList();
        return (path, recorded);
    }

    private static List<string> Lines(IEnumerable<HistoryOp> ops) => [.. ops.Select(HistoryJson.ToLine)];

    [Fact]
    public void The_recorder_writes_jepsens_json_lines()
    {
        var ops = new List<HistoryOp>
        {
            new(0, 3, OpType.Invoke, "txn", [MicroOp.Append(12, 5), MicroOp.ReadOf(12)], 123),
            new(1, 3, OpType.Ok, "txn", [MicroOp.Append(12, 5), MicroOp.ReadOf(12, [1, 5])], 456),
        };
        var (path, _) = Record(ops);
        Assert.Equal(
            """
            {"index":0,"process":3,"type":"invoke","f":"txn","value":[["append",12,5],["r",12,null]],"time":123}
            {"index":1,"process":3,"type":"ok","f":"txn","value":[["append",12,5],["r",12,[1,5]]],"time":456}

            """.ReplaceLineEndings("\n"),
            File.ReadAllText(path));
    }

    [Fact]
    public void Recorded_operations_read_back_the_same()
    {
        var ops = new HistoryBuilder()
            .T(0, 0, 3, Ok, Append(1, 1), Read(2, []), Read(1, 1))
            .T(1, 1, 2, Fail, Append(2, -7), Read(1))
            .T(2, 4, 5, Info, Append(long.MaxValue, long.MinValue))
            .T(3, 6, 9, Ok, Read(1, 1), Append(1, 2), Read(1, 1, 2))
            .T(4, 7, null, Ok, Append(2, 3))
            .T(5, 8, 10, Ok)
            .Build();
        var (path, recorded) = Record(ops);
        var back = new FileHistory(path).Read().ToList();
        Assert.Equal(Lines(ops), Lines(recorded));
        Assert.Equal(Lines(ops), Lines(back));
        Assert.Equal(Enumerable.Range(1, ops.Count).Select(i => (long)i), back.Select(o => o.Line));
        Assert.All(recorded, o => Assert.Equal(0, o.Line));
        // Structurally too, not only as text.
        for (int i = 0; i < ops.Count; i++)
        {
            Assert.Equal((ops[i].Index, ops[i].Process, ops[i].Type, ops[i].F, ops[i].TimeNs), (back[i].Index, back[i].Process, back[i].Type, back[i].F, back[i].TimeNs));
            Assert.Equal(ops[i].Value.Length, back[i].Value.Length);
            for (int j = 0; j < ops[i].Value.Length; j++)
            {
                var (a, b) = (ops[i].Value[j], back[i].Value[j]);
                Assert.Equal((a.Kind, a.Key, a.Value), (b.Kind, b.Key, b.Value));
                Assert.Equal(a.Read, b.Read);
            }
        }
    }

    [Fact]
    public void Lines_longer_than_the_read_buffer_and_many_lines_across_its_boundaries_read_back()
    {
        long[] big = [.. Enumerable.Range(1, 40_000).Select(i => (long)i * 1_000_003)];
        var b = new HistoryBuilder();
        foreach (long v in big) b.Serial(Append(9, v));
        b.Serial(Read(9, big));
        var ops = b.Build();
        var (path, _) = Record(ops);
        Assert.True(new FileInfo(path).Length > 3 << 16, "the file should span several buffers");
        Assert.True(Lines(ops)[^1].Length > 1 << 18, "the last line should be longer than the initial buffer");
        var back = new FileHistory(path).Read().ToList();
        Assert.Equal(Lines(ops), Lines(back));
        var r = new ListAppendChecker(new CheckerOptions { Strict = true }).Check(new FileHistory(path));
        Verdict.Valid(r);
        Assert.Equal(big.Length + 1, r.Committed);
    }

    [Fact]
    public void Fresh_processes_start_above_the_initial_clients()
    {
        using var recorder = new HistoryRecorder(null, () => 0, firstFreshProcess: 8);
        Assert.Equal(8, recorder.FreshProcess());
        Assert.Equal(9, recorder.FreshProcess());
        Assert.Throws<InvalidOperationException>(() => recorder.Ops);
        Assert.Throws<ArgumentException>(() => recorder.Complete(0, OpType.Invoke, []));
    }

    [Fact]
    public void Random_serial_histories_round_trip_and_check_the_same_from_a_file() =>
        SerialHistories.Histories.Sample((plans, dangling) =>
        {
            var ops = SerialHistories.Execute(plans, dangling).History();
            var (path, _) = Record(ops);
            Assert.Equal(Lines(ops), Lines(new FileHistory(path).Read()));
            var fromFile = new ListAppendChecker(new CheckerOptions { Strict = true }).Check(new FileHistory(path));
            var fromMemory = new ListAppendChecker(new CheckerOptions { Strict = true }).Check(new MemoryHistory(ops));
            Assert.True(fromFile.Valid);
            Assert.Equal((fromMemory.Committed, fromMemory.Failed, fromMemory.Unknown, fromMemory.UnknownObserved, fromMemory.GraphEdges),
                (fromFile.Committed, fromFile.Failed, fromFile.Unknown, fromFile.UnknownObserved, fromFile.GraphEdges));
        }, iter: 300, threads: 1);
}
