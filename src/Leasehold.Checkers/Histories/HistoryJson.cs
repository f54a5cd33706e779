using System.Text;
using System.Text.Json;

namespace Leasehold.Checkers.Histories;

/// <summary>Reads and writes one history operation as one JSON line, in the shape Jepsen and Elle use.</summary>
public static class HistoryJson
{
    public static void Write(Utf8JsonWriter w, HistoryOp op)
    {
        w.WriteStartObject();
        w.WriteNumber("index", op.Index);
        w.WriteNumber("process", op.Process);
        w.WriteString("type", TypeName(op.Type));
        w.WriteString("f", op.F);
        w.WritePropertyName("value");
        w.WriteStartArray();
        foreach (var m in op.Value)
        {
            w.WriteStartArray();
            if (m.Kind == MicroOpKind.Append)
            {
                w.WriteStringValue("append");
                w.WriteNumberValue(m.Key);
                w.WriteNumberValue(m.Value);
            }
            else
            {
                w.WriteStringValue("r");
                w.WriteNumberValue(m.Key);
                if (m.Read is null) w.WriteNullValue();
                else
                {
                    w.WriteStartArray();
                    foreach (long v in m.Read) w.WriteNumberValue(v);
                    w.WriteEndArray();
                }
            }
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteNumber("time", op.TimeNs);
        w.WriteEndObject();
    }

    public static string ToLine(HistoryOp op)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer)) Write(w, op);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static string TypeName(OpType type) => type switch
    {
        OpType.Invoke => "invoke",
        OpType.Ok => "ok",
        OpType.Fail => "fail",
        OpType.Info => "info",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>
    /// Parses one line; every problem is a <see cref="HistoryFormatException"/> naming <paramref name="line"/>.
    /// Null for an operation that is not a client's: as in Jepsen (and Elle, which checks client operations only),
    /// a process named by a string, such as <c>"nemesis"</c>, injects faults and has no transaction to check.
    /// </summary>
    public static HistoryOp? Parse(ReadOnlySpan<byte> json, long line)
    {
        var r = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            return ParseObject(ref r, line);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Utf8JsonReader throws InvalidOperationException for a few malformed shapes (a property name that is not a string…).
            throw JsonLineError.NotJson(line, json, e, JsonLineError.ListAppendExample);
        }
    }

    private static HistoryOp? ParseObject(ref Utf8JsonReader r, long line)
    {
        if (!r.Read() || r.TokenType != JsonTokenType.StartObject) throw JsonLineError.NotAnObject(line, JsonLineError.ListAppendExample);
        long? index = null, process = null, time = null;
        OpType? type = null;
        string? f = null;
        MicroOp[]? value = null;
        bool valueIsNull = false, notAClient = false, hasValue = false;
        Utf8JsonReader valueAt = default;
        while (r.Read() && r.TokenType != JsonTokenType.EndObject)
        {
            string name = r.GetString()!;
            r.Read();
            switch (name)
            {
                case "index": index = Integer(ref r, line, "index"); break;
                case "process":
                    // Jepsen's nemesis (and any other non-client actor) is a string, not a process number.
                    if (r.TokenType == JsonTokenType.String) notAClient = true;
                    else process = Integer(ref r, line, "process");
                    break;
                case "time": time = Integer(ref r, line, "time"); break;
                case "f":
                    if (r.TokenType != JsonTokenType.String) throw new HistoryFormatException(line, "\"f\" must be a string");
                    f = r.GetString();
                    break;
                case "type":
                    if (r.TokenType != JsonTokenType.String) throw new HistoryFormatException(line, "\"type\" must be a string");
                    type = r.GetString() switch
                    {
                        "invoke" => OpType.Invoke,
                        "ok" => OpType.Ok,
                        "fail" => OpType.Fail,
                        "info" => OpType.Info,
                        var other => throw new HistoryFormatException(line, $"\"type\" must be invoke, ok, fail or info, not \"{other}\""),
                    };
                    break;
                case "value":
                    // Before "process" (or after a nemesis's), parsed after the loop: "process" may still say this is a
                    // nemesis, whose value is no transaction.
                    if (r.TokenType == JsonTokenType.Null) valueIsNull = true;
                    else if (process is not null) value = MicroOps(ref r, line);
                    else
                    {
                        valueAt = r;
                        hasValue = true;
                        r.Skip();
                    }
                    break;
                default:
                    r.Skip(); // Jepsen histories may carry more fields (error, node…): ignored
                    break;
            }
        }
        if (r.Read()) throw new HistoryFormatException(line, "extra text after the JSON object");
        if (notAClient) return null; // its f and value are the nemesis's own (start-partition, kill…): not checked
        if (hasValue) value = MicroOps(ref valueAt, line);
        if (index is null) throw new HistoryFormatException(line, "missing \"index\"");
        if (process is null) throw new HistoryFormatException(line, "missing \"process\"");
        if (type is null) throw new HistoryFormatException(line, "missing \"type\"");
        if (f is null) throw new HistoryFormatException(line, "missing \"f\"");
        if (f != "txn") throw new HistoryFormatException(line, $"\"f\" is \"{f}\"; this checker reads list-append transactions (\"txn\")");
        if (value is null && !(valueIsNull && type is OpType.Fail or OpType.Info))
            throw new HistoryFormatException(line, "missing \"value\" (a list of micro-operations)");
        return new HistoryOp(index.Value, process.Value, type.Value, f, value ?? [], time ?? 0) { Line = line };
    }

    private static long Integer(ref Utf8JsonReader r, long line, string name)
    {
        if (r.TokenType != JsonTokenType.Number || !r.TryGetInt64(out long v))
            throw new HistoryFormatException(line, $"\"{name}\" must be an integer");
        return v;
    }

    private static MicroOp[] MicroOps(ref Utf8JsonReader r, long line)
    {
        if (r.TokenType != JsonTokenType.StartArray) throw new HistoryFormatException(line, "\"value\" must be a list of micro-operations");
        var ops = new List<MicroOp>(4);
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            int n = ops.Count;
            if (r.TokenType != JsonTokenType.StartArray) throw new HistoryFormatException(line, $"micro-operation {n} must be a list like [\"append\", k, v] or [\"r\", k, [..]]");
            r.Read();
            if (r.TokenType != JsonTokenType.String) throw new HistoryFormatException(line, $"micro-operation {n}: the first element names the operation (\"append\" or \"r\")");
            string f = r.GetString()!;
            r.Read();
            long key = Integer(ref r, line, $"micro-operation {n}'s key");
            r.Read();
            MicroOp op;
            if (f == "append")
            {
                op = MicroOp.Append(key, Integer(ref r, line, $"micro-operation {n}'s appended value"));
            }
            else if (f == "r")
            {
                if (r.TokenType == JsonTokenType.Null) op = MicroOp.ReadOf(key);
                else if (r.TokenType == JsonTokenType.StartArray)
                {
                    var values = new List<long>();
                    while (r.Read() && r.TokenType != JsonTokenType.EndArray) values.Add(Integer(ref r, line, $"micro-operation {n}'s read element"));
                    op = MicroOp.ReadOf(key, [.. values]);
                }
                else throw new HistoryFormatException(line, $"micro-operation {n}: a read's result is a list or null");
            }
            else throw new HistoryFormatException(line, $"micro-operation {n}: unknown operation \"{f}\" (expected \"append\" or \"r\")");
            if (!r.Read() || r.TokenType != JsonTokenType.EndArray) throw new HistoryFormatException(line, $"micro-operation {n} has more than three elements");
            ops.Add(op);
        }
        return [.. ops];
    }
}
