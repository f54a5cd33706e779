namespace Leasehold.Cli.Bench;

/// <summary>
/// What each figure of the bench's summary means, shown under `leasehold bench --help`; the summary points here.
/// Figures marked "whole run" count from the start, warm-up included; the others count the measured window.
/// </summary>
internal static class BenchGlossary
{
    public static readonly (string Term, string Meaning)[] Terms =
    [
        ("throughput (committed/s)", "workflows committed per second in the measured window (--duration, after --warmup); causal: workflows/s completed"),
        ("latency p50/p90/p99/max", "milliseconds from a request's submission (open loop: its scheduled start) to its answer, for requests submitted in the measured window; rejected ones are not counted"),
        ("submitted / committed", "requests issued in the measured window, and how many of them committed (causal: completed)"),
        ("aborted", "a function called Abort (a transfer from an account short of funds): nothing of the workflow took effect"),
        ("failed", "a function threw, touched an undeclared key or ran past its time limit: nothing took effect (plain causal: the writes of the functions before it stay visible)"),
        ("rejected", "not admitted (open loop past its queue bound of two seconds of arrivals, or a stopping cluster): it never ran"),
        ("unknown", "the cluster stopped while the batch's commit record was being written: it may or may not have committed"),
        ("remote one-sided ops", "whole run: reads and writes of another worker's memory region without its processor, as RDMA does: a lease handed over, an access away from the key's leaseholder; each waits --remote-op-us"),
        ("lease transfers", "whole run: times a key's lease (the right to cache and update it) moved to another worker between batches, its value handed over"),
        ("local ratio", "whole run: share of key accesses that ran on the worker holding the key's lease, needing no one-sided operation"),
        ("batches committed", "whole run: batches of requests (closed when the pipeline has room, at --batch-size or at --batch-delay-ms) made durable in the store"),
        ("peak working set (MiB)", "the process's peak resident memory"),
        ("allocated per txn (bytes)", "managed memory allocated in the measured window per committed workflow"),
        ("mailbox posts", "items handed to a mailbox (driver, worker, executor) in the measured window per committed workflow: each is a hand-off between actors (JSON: posts_per_txn)"),
        ("wake-ups per txn", "times in the measured window a mailbox nobody was draining was handed to a thread-pool thread, per committed workflow; a post to a mailbox already draining costs none (JSON: wakeups_per_txn)"),
        ("workflows per batch", "committed workflows in the measured window per batch committed in it: how much each group commit carried (JSON: txn_per_batch)"),
        ("batch logging / executing / committing", "mean milliseconds per batch committed in the measured window: logging (closed to its plans sent: a place in the pipeline, then the sync of its input), executing (plans to the last worker's executed message), committing (then to its commit record being durable); they say where a batch's time goes (JSON: batch_phase_ms)"),
        ("synced writes per batch", "writes the store made durable with an fsync in the measured window per committed batch; shown for stores that count them (RocksDB). 1.0 means the batch log and the commit record share one sync (JSON: syncs_per_batch, syncs_per_txn)"),
        ("CPU per txn (µs)", "CPU time of the whole process (all threads, user and kernel, bench clients and GC included) in the measured window per committed workflow (JSON: cpu_us_per_txn)"),
        ("CPU per txn, every process", "with worker processes: CPU time of the driver's process and of every worker process (all threads, user and kernel) in the measured window per committed workflow: what crossing processes costs in processor time; in process it equals CPU per txn (JSON: cpu_us_per_txn_all_processes)"),
        ("invariant", "the workload's own check of the final state (banking: total-balance, micro: write-count, …): holds or BROKEN; the grey line under the table says what was checked. \"none\": the workload has none (causal-micro: record --history)"),
        ("history checker", "list-append: the recorded history checked for (strict) serializability, Elle's anomalies (G0, G1, G-single, G2…)"),
        ("aborted attempts / workflows retried", "causal --transactions: transaction attempts that aborted (each is retried), and workflows that needed at least one retry"),
        ("ring messages per workflow", "causal: messages the protocol sends between cache servers (and the store) to keep the caches consistent, per completed workflow"),
        ("store batches / versions written / misses / evictions", "causal --durability: batches persisted, key versions written, reads that missed the cache and loaded from the store, keys evicted past --cache-capacity"),
        ("modelled server utilization mean / max", "causal --virtual: busy share of the modelled server processors (--service-us, --function-us), mean and busiest"),
        ("causal checker", "causal --history: the recorded history checked for causal consistency with convergence (CCv)"),
        ("ratio", "side by side: a run's throughput over the first row's"),
    ];

    /// <summary>The glossary as a help section, the terms in one column and their meanings wrapped beside them.</summary>
    public static string HelpSection(int width)
    {
        const int column = 30; // a longer term takes a line of its own
        var text = new System.Text.StringBuilder("Summary terms (the table a run prints):\n");
        foreach (var (term, meaning) in Terms)
        {
            var lines = Wrap(meaning, Math.Max(30, width - column));
            text.Append("  ").Append(term);
            if (term.Length + 2 < column) text.Append(' ', column - 2 - term.Length).Append(lines[0]).Append('\n');
            else text.Append('\n').Append(' ', column).Append(lines[0]).Append('\n');
            foreach (var more in lines.Skip(1)) text.Append(' ', column).Append(more).Append('\n');
        }
        return text.ToString();
    }

    private static List<string> Wrap(string text, int width)
    {
        var lines = new List<string>();
        var line = new System.Text.StringBuilder();
        foreach (var word in text.Split(' '))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                lines.Add(line.ToString());
                line.Clear();
            }
            if (line.Length > 0) line.Append(' ');
            line.Append(word);
        }
        lines.Add(line.ToString());
        return lines;
    }
}
