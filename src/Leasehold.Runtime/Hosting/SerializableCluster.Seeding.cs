using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Driver;

namespace Leasehold.Runtime.Hosting;

/// <summary>
/// Seeding and migrating data into a store that is already in use. <see cref="IStateStore.LoadAsync"/>
/// loads batch 0 and so only fits a store that has never committed; this goes through batches instead.
/// </summary>
public sealed partial class SerializableCluster
{
    /// <summary>
    /// Writes <paramref name="objects"/> into <paramref name="table"/> through the cluster, as one small
    /// workflow per key: each commits durably in a batch like any request, so seeding is safe on a store
    /// with live data, concurrently with traffic, and across crashes (a logged seed is re-executed on the
    /// next start). Without <paramref name="overwrite"/> a key that exists is left alone, so running the same
    /// seed on every start, or again after a partial failure, changes nothing that is already there.
    /// Keys are independent: if one fails, the others may have committed; the exception names each key
    /// that did not and why, and repeating the call is the remedy.
    /// </summary>
    /// <returns>How many keys were written (keys that existed and were left alone are not counted).</returns>
    public async Task<int> SeedAsync(string table, IEnumerable<KeyValuePair<string, byte[]>> objects, bool overwrite = false, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(table);
        ArgumentNullException.ThrowIfNull(objects);
        var items = objects.ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in items)
        {
            if (key is null || value is null) throw new ArgumentException($"seeding table '{table}': every object needs a key and a value (a null one was given{(key is null ? "" : $" for key '{key}'")})", nameof(objects));
            if (!seen.Add(key)) throw new ArgumentException($"seeding table '{table}': key '{key}' is given twice", nameof(objects));
        }
        var workflow = SeedWorkflowFor(table);
        var calls = items.Select(o => InvokeAsync(workflow.Name, SeedWorkflow.ArgsFor(o.Key, o.Value, overwrite), cancellation)).ToList();
        var results = await Task.WhenAll(calls).ConfigureAwait(false);
        var failed = new List<string>();
        int written = 0;
        for (int i = 0; i < results.Length; i++)
        {
            if (!results[i].IsCommitted) failed.Add($"'{items[i].Key}': {results[i]}");
            else if (SeedWorkflow.Wrote(results[i])) written++;
        }
        if (failed.Count > 0)
            throw new InvalidOperationException($"seeding table '{table}': {failed.Count} of {items.Count} keys did not commit (the others did; seeding again is safe): {string.Join("; ", failed.Take(10))}{(failed.Count > 10 ? "; …" : "")}");
        return written;
    }

    /// <summary>The seed workflow of <paramref name="table"/>, registered on first use (here or when recovery meets a logged one).</summary>
    private WorkflowDefinition SeedWorkflowFor(string table)
    {
        if (table == ResultRecord.Table) throw new ArgumentException($"table '{table}' is reserved for idempotency records", nameof(table));
        lock (_gate)
        {
            if (_workflows.TryGetValue(SeedWorkflow.NameFor(table), out var existing)) return existing;
            var workflow = SeedWorkflow.For(table);
            _tables[table] = Consistency.Serializable;
            _workflows.Add(workflow.Name, workflow);
            return workflow;
        }
    }
}
