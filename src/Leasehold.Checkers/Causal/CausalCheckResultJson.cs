using System.Text.Json;

namespace Leasehold.Checkers.Causal;

/// <summary>
/// The verdict as the JSON object a bench result carries under <c>"checker"</c> (the same fields as the
/// serializable check's: ran, model, valid, transactions → here workflows, seconds, history, anomalies by
/// kind), plus the causal check's own counts and its explained examples.
/// </summary>
public static class CausalCheckResultJson
{
    public static void Write(Utf8JsonWriter w, CausalCheckResult r, double seconds, string? history)
    {
        w.WriteStartObject();
        w.WriteBoolean("ran", true);
        w.WriteString("model", r.Convergence ? "causal-convergence" : "causal");
        w.WriteBoolean("valid", r.Valid);
        w.WriteNumber("workflows", r.Workflows);
        w.WriteNumber("transactions", r.Transactions);
        w.WriteNumber("aborted_workflows", r.AbortedWorkflows);
        w.WriteNumber("functions", r.Functions);
        w.WriteNumber("missing_functions", r.MissingFunctions);
        w.WriteNumber("ops", r.Ops);
        w.WriteNumber("reads", r.Reads);
        w.WriteNumber("writes", r.Writes);
        w.WriteNumber("chains", r.Chains);
        w.WriteNumber("edges", r.Edges);
        w.WriteNumber("conflict_edges", r.ConflictEdges);
        w.WriteNumber("seconds", Math.Round(seconds, 2));
        if (history is not null) w.WriteString("history", history); else w.WriteNull("history");
        w.WriteStartObject("anomalies");
        foreach (var (kind, count) in r.Counts) w.WriteNumber(kind, count);
        w.WriteEndObject();
        w.WriteStartArray("examples");
        foreach (var a in r.Examples)
        {
            w.WriteStartObject();
            w.WriteString("kind", a.Kind);
            w.WriteString("explanation", a.Explanation);
            w.WriteStartArray("records");
            foreach (var record in a.Records) CausalHistoryJson.Write(w, record);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static void Write(Stream stream, CausalCheckResult r, double seconds, string? history)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        Write(w, r, seconds, history);
    }
}
