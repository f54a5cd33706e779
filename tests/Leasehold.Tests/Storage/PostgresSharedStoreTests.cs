using System.Collections.Concurrent;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;
using Leasehold.Storage.Postgres;
using Leasehold.Tests.Recovery;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Storage;

/// <summary>
/// Two nodes on one PostgreSQL schema (an overlapping rolling restart), on real threads: the new one's
/// recovery discards the old one's in-flight versions and re-executes its logged batches while the old one
/// is still serving. The second node may be refused; if it starts, no acknowledged request may be lost.
/// </summary>
public class PostgresSharedStoreTests
{
    private static readonly WorkflowDefinition Append = new WorkflowBuilder("append")
        .Function("append", f => f
            .Updates(Lists.Table, a => a.GetString("key"))
            .Body(ctx =>
            {
                var list = Lists.Decode(ctx.Read(Lists.Table, ctx.Args.GetString("key")));
                list.Add(ctx.Args.GetLong("id"));
                ctx.Write(Lists.Table, ctx.Args.GetString("key"), Lists.Encode(list));
                return Value.FromLong(list.Count);
            }))
        .Build();

    [SkippableFact]
    public async Task A_second_node_on_a_schema_in_use_is_refused_or_loses_nothing_acknowledged()
    {
        string schema = $"shared_store_{Environment.ProcessId}";
        await ExternalServer.RequirePostgresOrSkipAsync();
        var a = await PostgresStateStore.OpenAsync(ExternalServer.Postgres, schema);
        await a.DropAsync();
        await a.DisposeAsync();
        a = await PostgresStateStore.OpenAsync(ExternalServer.Postgres, schema);
        var b = await PostgresStateStore.OpenAsync(ExternalServer.Postgres, schema);
        using var poolA = new ThreadPoolScheduler();
        using var poolB = new ThreadPoolScheduler();
        var options = new ClusterOptions { Workers = 3, MaxBatchDelay = TimeSpan.FromMilliseconds(1) };
        var old = new SerializableCluster(options, poolA, a);
        var fresh = new SerializableCluster(options, poolB, b);
        old.Register(Append);
        fresh.Register(Append);
        var acknowledged = new ConcurrentBag<long>();
        string? freshRefused = null;
        try
        {
            await old.StartAsync();
            var load = Task.Run(async () =>
            {
                var pending = new List<Task>();
                for (long id = 1; id <= 30000; id++)
                {
                    long i = id;
                    pending.Add(old.InvokeAsync("append", Args.Create().Set("key", "u" + i).Set("id", i).Build())
                        .ContinueWith(t => { if (t.Result.IsCommitted) acknowledged.Add(i); }));
                    if (pending.Count >= 64) { await Task.WhenAny(pending); pending.RemoveAll(t => t.IsCompleted); }
                }
                await Task.WhenAll(pending);
            });
            await Task.Delay(400);
            try { await fresh.StartAsync(); }
            catch (Exception e) { freshRefused = e.Message; }
            // More restarts that overlap the old node (each a new process on the same schema).
            for (int r = 0; r < 20 && freshRefused is null && !load.IsCompleted; r++)
            {
                await Task.Delay(100);
                await using var more = await PostgresStateStore.OpenAsync(ExternalServer.Postgres, schema);
                using var pool = new ThreadPoolScheduler();
                var another = new SerializableCluster(options, pool, more);
                another.Register(Append);
                try { await another.StartAsync(); }
                catch (Exception e) { freshRefused = e.Message; }
                await Task.Delay(50);
            }
            await load.WaitAsync(TimeSpan.FromSeconds(120));
            Console.WriteLine($"shared store: fresh start {(freshRefused ?? "succeeded")}; old rollbacks {old.Counters.Rollbacks}, old stop {old.StopReason}; acked {acknowledged.Count}");
            if (freshRefused is not null) return; // refusing the second node is the right behaviour

            var lost = new List<long>();
            foreach (long id in acknowledged.Order())
                if (Lists.Decode(await a.ReadCommittedAsync(new StateKey(Lists.Table, "u" + id))) is not [var only] || only != id) lost.Add(id);
            Assert.True(lost.Count == 0,
                $"{lost.Count} of {acknowledged.Count} acknowledged appends are missing or doubled (e.g. {string.Join(",", lost.Take(10))}); old node rollbacks {old.Counters.Rollbacks}, stop: {old.StopReason}");
        }
        finally
        {
            await a.DropAsync();
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
    }
}
