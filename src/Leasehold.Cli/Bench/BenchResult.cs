using System.Text.Json;
using Leasehold.Workloads;

namespace Leasehold.Cli.Bench;

/// <summary>What a bench run measured; written as the one JSON object the README and scripts read.</summary>
internal sealed record BenchResult
{
    public required BenchSettings Settings { get; init; }
    public long Submitted { get; init; }
    public long Committed { get; init; }
    public long Aborted { get; init; }
    public long Failed { get; init; }
    public long Rejected { get; init; }
    public long Unknown { get; init; }
    public double MeasuredSeconds { get; init; }
    public double ThroughputTps { get; init; }
    public double P50Ms { get; init; }
    public double P90Ms { get; init; }
    public double P99Ms { get; init; }
    public double MaxMs { get; init; }
    public long RemoteOps { get; init; }
    public long LeaseTransfers { get; init; }
    public double LocalRatio { get; init; }
    public double PeakWorkingSetMb { get; init; }
    public double AllocBytesPerTxn { get; init; }
    public double PostsPerTxn { get; init; }
    public double WakeupsPerTxn { get; init; }
    public double CpuUsPerTxn { get; init; }
    /// <summary>CPU of every process of the cluster (this one and the worker processes) in the measured window per workflow committed in it; null if a worker process did not report.</summary>
    public double? CpuUsPerTxnAllProcesses { get; init; }
    /// <summary>Synced writes per committed workflow and per committed batch; null when the store does not count them.</summary>
    public double? SyncsPerTxn { get; init; }
    public double? SyncsPerBatch { get; init; }
    public double TxnPerBatch { get; init; }
    /// <summary>Mean milliseconds per batch committed in the window: logging, executing, committing.</summary>
    public double[] BatchPhaseMs { get; init; } = [0, 0, 0];
    public long BatchesCommitted { get; init; }
    public long Messages { get; init; }
    /// <summary>Bytes every process's links sent, over the whole run, per transaction committed in it (null: in process).</summary>
    public double? WireBytesPerTxn { get; init; }
    /// <summary>Worker processes whose counters reached the driver at shutdown (null: in process).</summary>
    public int? WorkersReported { get; init; }
    public long OutcomeBarriers { get; init; }
    public int[] GcCollections { get; init; } = [0, 0, 0];
    public double GcPauseMs { get; init; }
    public required InvariantResult Invariant { get; init; }
    /// <summary>The history checker's verdict, for checkable workloads.</summary>
    public CheckerVerdict? Checker { get; init; }

    /// <summary>Everything the run promised held: the invariant and, where it ran, the checker.</summary>
    public bool Correct => Invariant.Ok && (Checker?.Result.Valid ?? true);

    public void WriteJson(Stream stream)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        Write(w);
    }

    public static void WriteJsonArray(Stream stream, IEnumerable<BenchResult> results)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartArray();
        foreach (var r in results) r.Write(w);
        w.WriteEndArray();
    }

    private void Write(Utf8JsonWriter w)
    {
        var s = Settings;
        w.WriteStartObject();
        w.WriteNumber("schema_version", 1);
        w.WriteString("mode", "serializable");
        w.WriteString("workload", s.Workload);
        w.WriteString("protocol", s.Protocol == Runtime.Serializable.ProtocolKind.Lease ? "lease" : "nocc");
        w.WriteString("store", Stores.StoreSpec.Redact(s.Store));
        w.WriteNumber("workers", s.Workers);
        w.WriteNumber("executors", s.Executors);
        w.WriteNumber("clients", s.Clients);
        if (s.Rate is { } rate) w.WriteNumber("rate", rate); else w.WriteNull("rate");
        w.WriteNumber("remote_op_us", s.RemoteOpUs);
        w.WriteNumber("link_us", s.EffectiveLinkUs);
        w.WriteString("write_gating", s.Gating == WriteGating.Strict ? "strict" : "declared");
        w.WriteNumber("batch_size", s.BatchSize);
        w.WriteNumber("batch_delay_ms", s.BatchDelayMs);
        w.WriteNumber("pipeline_depth", s.PipelineDepth);
        w.WriteString("transport", s.Links switch
        {
            Processes.ProcessLinkKind.Tcp => "tcp",
            Processes.ProcessLinkKind.Shm => "shm",
            _ => s.Transport == Runtime.Transport.TransportKind.Inproc ? "inproc" : "inproc-serialising",
        });
        if (s.Links is not null) w.WriteNumber("processes", s.Workers + 1); else w.WriteNumber("processes", 1);
        w.WriteNumber("duration_s", Math.Round(MeasuredSeconds, 3));
        w.WriteNumber("seed", s.Seed);
        w.WriteNumber("theta", s.Theta);
        w.WriteNumber("submitted", Submitted);
        w.WriteNumber("committed", Committed);
        w.WriteNumber("aborted", Aborted);
        w.WriteNumber("failed", Failed);
        w.WriteNumber("rejected", Rejected);
        w.WriteNumber("unknown", Unknown);
        w.WriteNumber("throughput_tps", Math.Round(ThroughputTps, 1));
        w.WriteStartObject("latency_ms");
        w.WriteNumber("p50", Math.Round(P50Ms, 3));
        w.WriteNumber("p90", Math.Round(P90Ms, 3));
        w.WriteNumber("p99", Math.Round(P99Ms, 3));
        w.WriteNumber("max", Math.Round(MaxMs, 3));
        w.WriteEndObject();
        w.WriteNumber("remote_ops", RemoteOps);
        w.WriteNumber("lease_transfers", LeaseTransfers);
        w.WriteNumber("local_ratio", Math.Round(LocalRatio, 4));
        w.WriteNumber("peak_working_set_mb", Math.Round(PeakWorkingSetMb, 1));
        w.WriteNumber("alloc_bytes_per_txn", Math.Round(AllocBytesPerTxn, 0));
        w.WriteNumber("posts_per_txn", Math.Round(PostsPerTxn, 2));
        w.WriteNumber("wakeups_per_txn", Math.Round(WakeupsPerTxn, 2));
        w.WriteNumber("cpu_us_per_txn", Math.Round(CpuUsPerTxn, 1));
        if (CpuUsPerTxnAllProcesses is { } all) w.WriteNumber("cpu_us_per_txn_all_processes", Math.Round(all, 1)); else w.WriteNull("cpu_us_per_txn_all_processes");
        if (SyncsPerTxn is { } spt) w.WriteNumber("syncs_per_txn", Math.Round(spt, 4)); else w.WriteNull("syncs_per_txn");
        if (SyncsPerBatch is { } spb) w.WriteNumber("syncs_per_batch", Math.Round(spb, 3)); else w.WriteNull("syncs_per_batch");
        w.WriteNumber("txn_per_batch", Math.Round(TxnPerBatch, 1));
        w.WriteStartObject("batch_phase_ms");
        w.WriteNumber("logging", Math.Round(BatchPhaseMs[0], 3));
        w.WriteNumber("executing", Math.Round(BatchPhaseMs[1], 3));
        w.WriteNumber("committing", Math.Round(BatchPhaseMs[2], 3));
        w.WriteEndObject();
        w.WriteNumber("batches_committed", BatchesCommitted);
        w.WriteNumber("messages", Messages);
        if (WireBytesPerTxn is { } wire) w.WriteNumber("wire_bytes_per_txn", Math.Round(wire, 1)); else w.WriteNull("wire_bytes_per_txn");
        if (WorkersReported is { } reported) w.WriteNumber("workers_reported", reported); else w.WriteNull("workers_reported");
        w.WriteNumber("outcome_barriers", OutcomeBarriers);
        w.WriteStartObject("gc");
        w.WriteNumber("gen0", GcCollections[0]);
        w.WriteNumber("gen1", GcCollections[1]);
        w.WriteNumber("gen2", GcCollections[2]);
        w.WriteNumber("pause_ms", Math.Round(GcPauseMs, 1));
        w.WriteEndObject();
        w.WriteStartObject("invariant");
        w.WriteString("name", Invariant.Name);
        w.WriteBoolean("ok", Invariant.Ok);
        w.WriteString("detail", Invariant.Detail);
        w.WriteEndObject();
        w.WriteStartObject("checker");
        w.WriteBoolean("ran", Checker is not null);
        if (Checker is { } c)
        {
            w.WriteString("model", c.Result.Strict ? "strict-serializable" : "serializable");
            w.WriteBoolean("valid", c.Result.Valid);
            w.WriteNumber("transactions", c.Result.Committed + c.Result.Failed + c.Result.Unknown);
            w.WriteNumber("seconds", Math.Round(c.Seconds, 2));
            if (c.HistoryPath is not null) w.WriteString("history", c.HistoryPath); else w.WriteNull("history");
            w.WriteStartObject("anomalies");
            foreach (var (kind, count) in c.Result.Counts) w.WriteNumber(kind, count);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
