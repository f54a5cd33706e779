using System.Text.Json;

namespace Leasehold.Checkers.Histories;

/// <summary>
/// Records what clients saw, in order, as JSON lines and/or in memory. Thread-safe: the index and the
/// time are taken under one lock, so the file's order is real-time order. Processes follow Jepsen's
/// rule: <see cref="FreshProcess"/> gives a new id to replace one whose operation ended info.
/// </summary>
public sealed class HistoryRecorder : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Func<long> _clockNs;
    private readonly Stream? _output;
    private readonly Utf8JsonWriter? _writer;
    private readonly List<HistoryOp>? _memory;
    private long _index;
    private long _nextProcess;

    /// <param name="output">where the JSON lines go (owned: disposed with the recorder), or null</param>
    /// <param name="clockNs">nanoseconds since the run began (virtual time in the deterministic mode)</param>
    /// <param name="keepInMemory">also keep every operation in <see cref="Ops"/></param>
    /// <param name="firstFreshProcess">the first id <see cref="FreshProcess"/> hands out (above the initial clients' ids)</param>
    public HistoryRecorder(Stream? output, Func<long> clockNs, bool keepInMemory = false, long firstFreshProcess = 0)
    {
        _output = output;
        _clockNs = clockNs;
        _nextProcess = firstFreshProcess;
        if (output is not null) _writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        if (keepInMemory) _memory = [];
    }

    public long Count
    {
        get { lock (_lock) return _index; }
    }

    public IReadOnlyList<HistoryOp> Ops => _memory ?? throw new InvalidOperationException("this recorder keeps nothing in memory");

    public long FreshProcess() => Interlocked.Increment(ref _nextProcess) - 1;

    public void Invoke(long process, MicroOp[] ops) => Append(process, OpType.Invoke, ops);

    public void Complete(long process, OpType type, MicroOp[] ops)
    {
        if (type == OpType.Invoke) throw new ArgumentException("a completion is ok, fail or info", nameof(type));
        Append(process, type, ops);
    }

    private void Append(long process, OpType type, MicroOp[] ops)
    {
        lock (_lock)
        {
            var op = new HistoryOp(_index++, process, type, "txn", ops, _clockNs());
            _memory?.Add(op);
            if (_writer is not null)
            {
                HistoryJson.Write(_writer, op);
                _writer.Flush();
                _writer.Reset();
                _output!.WriteByte((byte)'\n');
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _writer?.Dispose();
            _output?.Dispose();
        }
    }
}
