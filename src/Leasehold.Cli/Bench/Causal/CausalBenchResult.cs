using System.Text.Json;

namespace Leasehold.Cli.Bench.Causal;

/// <summary>What a causal bench run measured: the serializable bench's JSON, with "mode":"causal", aborted split from retried, and the checker.</summary>
internal sealed record CausalBenchResult
{
    public required CausalBenchSettings Settings { get; init; }
    public long Submitted { get; init; }
    public long Committed { get; init; }
    public long Failed { get; init; }
    /// <summary>Attempts that aborted (each retried, or counted in Failed once retries ran out).</summary>
    public long Aborted { get; init; }
    /// <summary>Workflows that committed only after at least one retry.</summary>
    public long Retried { get; init; }
    public double MeasuredSeconds { get; init; }
    public double ThroughputTps { get; init; }
    public double P50Ms { get; init; }
    public double P90Ms { get; init; }
    public double P99Ms { get; init; }
    public double MaxMs { get; init; }
    /// <summary>Null across processes: the worker processes' servers count them, and no stats message brings them to the driver.</summary>
    public double? RingMessagesPerWorkflow { get; init; }
    /// <summary>Every message between nodes; null across processes, where each process counts its own.</summary>
    public long? Messages { get; init; }
    public double PeakWorkingSetMb { get; init; }
    public required Workloads.InvariantResult Invariant { get; init; }
    /// <summary>With a durability: store batches and versions written, misses loaded and keys evicted over the whole run.</summary>
    public (long Batches, long Versions, long Misses, long Evictions)? Persistence { get; init; }

    public static (long, long, long, long)? PersistenceOf(Runtime.Hosting.ICausalRuntime runtime) => runtime is Runtime.Hosting.CausalCluster { Store: { } store } cluster
        ? (store.Batches, store.VersionsWritten, cluster.Misses, cluster.Evictions)
        : null;

    /// <summary>Virtual runs: each server's modelled busy share of the whole run.</summary>
    public double[]? ServerUtilization { get; init; }
    /// <summary>The causal checker's verdict when a history was recorded and checked.</summary>
    public (bool Valid, long Workflows, double Seconds, IReadOnlyDictionary<string, long> Counts)? Checker { get; init; }

    public void Write(Utf8JsonWriter w)
    {
        var s = Settings;
        w.WriteStartObject();
        w.WriteNumber("schema_version", 1);
        w.WriteString("mode", "causal");
        w.WriteString("workload", s.Workload);
        w.WriteString("protocol", CausalBenchSettings.NameOf(s.Protocol));
        w.WriteString("transport", s.Links switch
        {
            Processes.ProcessLinkKind.Tcp => "tcp",
            Processes.ProcessLinkKind.Shm => "shm",
            _ => s.Transport == Runtime.Transport.TransportKind.Inproc ? "inproc" : "inproc-serialising",
        });
        w.WriteNumber("processes", s.Links is null ? 1 : s.Workers + 1);
        w.WriteString("store", Stores.StoreSpec.Parse(s.Store).Spec?.Engine ?? s.Store);
        w.WriteString("durability", CausalBenchSettings.NameOf(s.Durability));
        w.WriteNumber("cache_capacity", s.Capacity);
        if (Persistence is { } p)
        {
            w.WriteStartObject("persistence");
            w.WriteNumber("batches", p.Batches);
            w.WriteNumber("versions_written", p.Versions);
            w.WriteNumber("misses", p.Misses);
            w.WriteNumber("evictions", p.Evictions);
            w.WriteEndObject();
        }
        w.WriteNumber("workers", s.Workers);
        w.WriteNumber("clients", s.Clients);
        w.WriteNumber("link_latency_us", s.LinkLatencyUs);
        w.WriteBoolean("virtual_time", s.Virtual);
        if (s.Virtual)
        {
            w.WriteNumber("message_service_us", s.MessageServiceUs);
            w.WriteNumber("function_service_us", s.FunctionServiceUs);
            w.WriteStartArray("server_utilization");
            foreach (var u in ServerUtilization ?? []) w.WriteNumberValue(Math.Round(u, 3));
            w.WriteEndArray();
        }
        w.WriteBoolean("eager_integration", s.EagerIntegration);
        w.WriteBoolean("sessions", s.Sessions);
        w.WriteBoolean("transactions", s.Transactions);
        w.WriteNumber("duration_s", Math.Round(MeasuredSeconds, 3));
        w.WriteNumber("seed", s.Seed);
        w.WriteNumber("theta", s.Theta);
        w.WriteNumber("keys", s.Keys);
        w.WriteNumber("length", s.Length);
        w.WriteNumber("submitted", Submitted);
        w.WriteNumber("committed", Committed);
        w.WriteNumber("aborted", Aborted);
        w.WriteNumber("retried", Retried);
        w.WriteNumber("failed", Failed);
        w.WriteNumber("throughput_tps", Math.Round(ThroughputTps, 1));
        w.WriteStartObject("latency_ms");
        w.WriteNumber("p50", Math.Round(P50Ms, 3));
        w.WriteNumber("p90", Math.Round(P90Ms, 3));
        w.WriteNumber("p99", Math.Round(P99Ms, 3));
        w.WriteNumber("max", Math.Round(MaxMs, 3));
        w.WriteEndObject();
        if (RingMessagesPerWorkflow is { } ring) w.WriteNumber("ring_messages_per_workflow", Math.Round(ring, 2)); else w.WriteNull("ring_messages_per_workflow");
        if (Messages is { } messages) w.WriteNumber("messages", messages); else w.WriteNull("messages");
        w.WriteNumber("peak_working_set_mb", Math.Round(PeakWorkingSetMb, 1));
        w.WriteStartObject("invariant");
        w.WriteString("name", Invariant.Name);
        w.WriteBoolean("ok", Invariant.Ok);
        w.WriteString("detail", Invariant.Detail);
        w.WriteEndObject();
        w.WriteStartObject("checker");
        w.WriteBoolean("ran", Checker is not null);
        if (Checker is { } c)
        {
            w.WriteString("model", "causal+convergence");
            w.WriteBoolean("valid", c.Valid);
            w.WriteNumber("workflows", c.Workflows);
            w.WriteNumber("seconds", Math.Round(c.Seconds, 2));
            w.WriteStartObject("anomalies");
            foreach (var (kind, count) in c.Counts) w.WriteNumber(kind, count);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
