using System.Text.Json;
using Leasehold.Runtime.Causal;

namespace Leasehold.Cli.Bench.Causal;

/// <summary>
/// Writes a causal run's history for `leasehold check --model causal`: one JSON line per function
/// execution (process, seq, workflow, function, parents, type, server, ops). Values are the
/// workload's unique 8-byte numbers (other values their hash); null is a read of the initial value. Thread-safe.
/// </summary>
internal sealed class CausalHistoryWriter(string path) : IDisposable
{
    private readonly Stream _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
    private readonly Lock _lock = new();
    private long _records;

    public string Path => path;
    public long Records => Interlocked.Read(ref _records);

    public void Record(CausalFunctionRecord record)
    {
        lock (_lock)
        {
            using (var w = new Utf8JsonWriter(_file))
            {
                w.WriteStartObject();
                w.WriteNumber("process", record.Process);
                w.WriteNumber("seq", record.Seq);
                w.WriteNumber("workflow", record.Workflow);
                w.WriteNumber("function", record.Function);
                w.WriteStartArray("parents");
                foreach (int p in record.Parents) w.WriteNumberValue(p);
                w.WriteEndArray();
                w.WriteString("type", record.Ok ? "ok" : "fail");
                w.WriteNumber("server", record.Server);
                w.WriteStartArray("ops");
                foreach (var op in record.Ops)
                {
                    w.WriteStartObject();
                    w.WriteString("f", op.IsWrite ? "w" : "r");
                    w.WriteString("k", op.Key.Key);
                    if (op.Initial || op.Value is null) w.WriteNull("v");
                    else w.WriteNumber("v", ValueId(op.Value));
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            _file.WriteByte((byte)'\n');
            _records++;
        }
    }

    /// <summary>An 8-byte value is the number itself (the microbenchmark's); any other, its 64-bit hash (unique contents, unique ids).</summary>
    public static long ValueId(byte[] value) =>
        value.Length == 8 ? Value.ToLong(value) : unchecked((long)System.IO.Hashing.XxHash64.HashToUInt64(value));

    public void Dispose() => _file.Dispose();
}
