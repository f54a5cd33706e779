using System.Text;
using System.Text.Json;
using Leasehold.Checkers.Histories;

namespace Leasehold.Checkers.Causal;

/// <summary>
/// Reads and writes one function execution as one JSON line:
/// <c>{"process":3,"seq":5,"workflow":17,"function":2,"parents":[0,1],"type":"ok","server":1,"ops":[{"f":"r","k":"k1","v":5},{"f":"w","k":"k2","v":42},{"f":"r","k":"k9","v":null}]}</c>.
/// The engine's recorder writes exactly this; the causal checker reads it. Fields may come in any order,
/// unknown fields are skipped (so a recorder can add some), <c>server</c> is optional, and <c>"txn":true</c> marks a
/// function of a read-write transaction (written only when true; absent means false).
/// </summary>
public static class CausalHistoryJson
{
    public static void Write(Utf8JsonWriter w, CausalRecord r)
    {
        w.WriteStartObject();
        w.WriteNumber("process", r.Process);
        w.WriteNumber("seq", r.Seq);
        w.WriteNumber("workflow", r.Workflow);
        w.WriteNumber("function", r.Function);
        w.WriteStartArray("parents");
        foreach (int p in r.Parents) w.WriteNumberValue(p);
        w.WriteEndArray();
        w.WriteString("type", r.Ok ? "ok" : "fail");
        if (r.Server is { } server) w.WriteNumber("server", server);
        if (r.Transaction) w.WriteBoolean("txn", true);
        w.WriteStartArray("ops");
        foreach (var op in r.Ops)
        {
            w.WriteStartObject();
            w.WriteString("f", op.Kind == CausalOpKind.Write ? "w" : "r");
            w.WriteString("k", op.Key);
            if (op.Value is { } v) w.WriteNumber("v", v);
            else w.WriteNull("v");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static string ToLine(CausalRecord r)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer)) Write(w, r);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Parses one line; every problem is a <see cref="HistoryFormatException"/> naming <paramref name="line"/>.</summary>
    public static CausalRecord Parse(ReadOnlySpan<byte> json, long line)
    {
        var r = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            return ParseObject(ref r, line);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Utf8JsonReader throws InvalidOperationException for a few malformed shapes (a property name that is not a string…).
            throw JsonLineError.NotJson(line, json, e, JsonLineError.CausalExample);
        }
    }

    private static CausalRecord ParseObject(ref Utf8JsonReader r, long line)
    {
        if (!r.Read() || r.TokenType != JsonTokenType.StartObject) throw JsonLineError.NotAnObject(line, JsonLineError.CausalExample);
        long? process = null, seq = null, workflow = null;
        int? function = null, server = null;
        bool? ok = null;
        bool transaction = false;
        List<int>? parents = null;
        CausalOp[]? ops = null;
        while (r.Read() && r.TokenType != JsonTokenType.EndObject)
        {
            // Names compared as UTF-8 bytes: a string per property name would be ten million allocations for a 200,000-workflow history.
            var name = Field(ref r);
            r.Read();
            switch (name)
            {
                case Name.Process: process = Long(ref r, line, "\"process\""); break;
                case Name.Seq:
                    seq = Long(ref r, line, "\"seq\"");
                    if (seq < 0) throw new HistoryFormatException(line, $"\"seq\" must be 0 or more, not {seq}");
                    break;
                case Name.Workflow: workflow = Long(ref r, line, "\"workflow\""); break;
                case Name.Function:
                    function = Int(ref r, line, "\"function\"");
                    if (function < 0) throw new HistoryFormatException(line, $"\"function\" must be 0 or more, not {function}");
                    break;
                case Name.Server: server = r.TokenType == JsonTokenType.Null ? null : Int(ref r, line, "\"server\""); break;
                case Name.Type:
                    if (r.TokenType != JsonTokenType.String) throw new HistoryFormatException(line, "\"type\" must be a string");
                    if (r.ValueTextEquals("ok"u8)) ok = true;
                    else if (r.ValueTextEquals("fail"u8)) ok = false;
                    else throw new HistoryFormatException(line, $"\"type\" must be \"ok\" or \"fail\", not \"{r.GetString()}\"");
                    break;
                case Name.Parents:
                    if (r.TokenType != JsonTokenType.StartArray) throw new HistoryFormatException(line, "\"parents\" must be a list of function indices");
                    parents = [];
                    while (r.Read() && r.TokenType != JsonTokenType.EndArray) parents.Add(Int(ref r, line, "a parent"));
                    break;
                case Name.Ops: ops = Ops(ref r, line); break;
                case Name.Txn:
                    transaction = r.TokenType switch
                    {
                        JsonTokenType.True => true,
                        JsonTokenType.False => false,
                        _ => throw new HistoryFormatException(line, "\"txn\" must be true or false"),
                    };
                    break;
                default:
                    r.Skip(); // a recorder may add fields (times, ids): not checked
                    break;
            }
        }
        if (r.Read()) throw new HistoryFormatException(line, "extra text after the JSON object");
        if (process is null) throw new HistoryFormatException(line, "missing \"process\"");
        if (seq is null) throw new HistoryFormatException(line, "missing \"seq\"");
        if (workflow is null) throw new HistoryFormatException(line, "missing \"workflow\"");
        if (function is null) throw new HistoryFormatException(line, "missing \"function\"");
        if (parents is null) throw new HistoryFormatException(line, "missing \"parents\"");
        if (ok is null) throw new HistoryFormatException(line, "missing \"type\"");
        if (ops is null) throw new HistoryFormatException(line, "missing \"ops\"");
        CheckParents(parents, function.Value, line);
        return new CausalRecord(process.Value, seq.Value, workflow.Value, function.Value, [.. parents], ok.Value, ops) { Server = server, Line = line, Transaction = transaction };
    }

    /// <summary>
    /// Functions are numbered in topological order (every parent has a lower index, as the SDK numbers them), so a
    /// parent outside 0..function−1 cannot exist; a parent that was not recorded is fine (the run was cut off).
    /// </summary>
    private enum Name { Other, Process, Seq, Workflow, Function, Parents, Type, Server, Ops, Txn, F, K, V }

    private static Name Field(ref Utf8JsonReader r) =>
        r.ValueTextEquals("process"u8) ? Name.Process
        : r.ValueTextEquals("seq"u8) ? Name.Seq
        : r.ValueTextEquals("workflow"u8) ? Name.Workflow
        : r.ValueTextEquals("function"u8) ? Name.Function
        : r.ValueTextEquals("parents"u8) ? Name.Parents
        : r.ValueTextEquals("type"u8) ? Name.Type
        : r.ValueTextEquals("server"u8) ? Name.Server
        : r.ValueTextEquals("ops"u8) ? Name.Ops
        : r.ValueTextEquals("txn"u8) ? Name.Txn
        : r.ValueTextEquals("f"u8) ? Name.F
        : r.ValueTextEquals("k"u8) ? Name.K
        : r.ValueTextEquals("v"u8) ? Name.V
        : Name.Other;

    private static void CheckParents(List<int> parents, int function, long line)
    {
        for (int i = 0; i < parents.Count; i++)
        {
            int p = parents[i];
            if (p < 0 || p >= function)
                throw new HistoryFormatException(line, $"parent {p} of function {function} is out of range: a parent has a lower index (0..{function - 1})");
            for (int j = 0; j < i; j++)
                if (parents[j] == p) throw new HistoryFormatException(line, $"parent {p} is listed twice");
        }
    }

    /// <param name="name">how the message names the value: <c>"seq"</c> in quotes, or words</param>
    private static long Long(ref Utf8JsonReader r, long line, string name)
    {
        if (r.TokenType != JsonTokenType.Number || !r.TryGetInt64(out long v))
            throw new HistoryFormatException(line, $"{name} must be an integer");
        return v;
    }

    private static int Int(ref Utf8JsonReader r, long line, string name)
    {
        if (r.TokenType != JsonTokenType.Number || !r.TryGetInt32(out int v))
            throw new HistoryFormatException(line, $"{name} must be an integer (32 bits)");
        return v;
    }

    private static CausalOp[] Ops(ref Utf8JsonReader r, long line)
    {
        if (r.TokenType != JsonTokenType.StartArray) throw new HistoryFormatException(line, "\"ops\" must be a list of operations");
        var ops = new List<CausalOp>(4);
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            int n = ops.Count;
            if (r.TokenType != JsonTokenType.StartObject) throw new HistoryFormatException(line, $"op {n} must be an object like {{\"f\":\"r\",\"k\":\"k1\",\"v\":5}}");
            string? f = null, key = null;
            long? value = null;
            bool hasValue = false;
            while (r.Read() && r.TokenType != JsonTokenType.EndObject)
            {
                var name = Field(ref r);
                r.Read();
                switch (name)
                {
                    case Name.F:
                        if (r.TokenType != JsonTokenType.String) throw new HistoryFormatException(line, $"op {n}: \"f\" must be \"r\" or \"w\"");
                        f = r.ValueTextEquals("r"u8) ? "r" : r.ValueTextEquals("w"u8) ? "w" : r.GetString();
                        break;
                    case Name.K:
                        if (r.TokenType != JsonTokenType.String) throw new HistoryFormatException(line, $"op {n}: \"k\" (the key) must be a string");
                        key = r.GetString();
                        break;
                    case Name.V:
                        hasValue = true;
                        if (r.TokenType == JsonTokenType.Null) value = null;
                        else if (r.TokenType == JsonTokenType.Number && r.TryGetInt64(out long v)) value = v;
                        else throw new HistoryFormatException(line, $"op {n}: \"v\" must be an integer or null");
                        break;
                    default:
                        r.Skip();
                        break;
                }
            }
            if (f is null) throw new HistoryFormatException(line, $"op {n}: missing \"f\"");
            if (key is null) throw new HistoryFormatException(line, $"op {n}: missing \"k\"");
            if (!hasValue) throw new HistoryFormatException(line, $"op {n}: missing \"v\" (null for a read of the initial value)");
            ops.Add(f switch
            {
                "r" => CausalOp.Read(key, value),
                "w" => value is { } written ? CausalOp.Write(key, written) : throw new HistoryFormatException(line, $"op {n}: a write's \"v\" must be an integer, not null"),
                _ => throw new HistoryFormatException(line, $"op {n}: unknown operation \"{f}\" (expected \"r\" or \"w\")"),
            });
        }
        return [.. ops];
    }
}
