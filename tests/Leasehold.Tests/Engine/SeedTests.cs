using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Engine;

/// <summary>
/// SeedAsync seeds or migrates data into a store that has commits already (where LoadAsync refuses):
/// through batches, so it is durable and ordered with other work; it leaves existing keys alone unless
/// told to overwrite, so repeating it is safe; and a seed interrupted after its batch was logged is
/// re-executed by the next start without the application registering anything.
/// </summary>
public class SeedTests
{
    private const string T = "accounts";

    private static readonly WorkflowDefinition Deposit = new WorkflowBuilder("deposit")
        .Function("add", f => f.Updates(T, a => a.GetString("k")).Body(ctx =>
            ctx.WriteLong(T, ctx.Args.GetString("k"), ctx.ReadLong(T, ctx.Args.GetString("k")) + 10)))
        .Build();

    private static Args Key(string k) => Args.Create().Set("k", k).Build();

    private static KeyValuePair<string, byte[]> Obj(string key, long value) => new(key, Value.FromLong(value));

    /// <summary>Runs the deterministic scheduler until <paramref name="task"/> is done, then awaits it.</summary>
    private static async Task<T> Run<T>(DeterministicScheduler scheduler, Task<T> task)
    {
        scheduler.RunUntil(() => task.IsCompleted || scheduler.Fault is not null);
        Assert.True(scheduler.Fault is null, $"seed {scheduler.Seed}: {scheduler.Fault}");
        return await task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Seeding_a_store_with_commits_writes_absent_keys_and_leaves_existing_ones_alone()
    {
        var scheduler = new DeterministicScheduler(11);
        var store = new MemoryStateStore();
        store.Load([new(new StateKey(T, "alice"), Value.FromLong(1))]);
        var cluster = new SerializableCluster(new ClusterOptions { Workers = 2 }, scheduler, store);
        cluster.Register(Deposit);
        Assert.True((await Run(scheduler, cluster.InvokeAsync("deposit", Key("alice")))).IsCommitted);
        await Assert.ThrowsAnyAsync<Exception>(async () => await store.LoadAsync([new(new StateKey(T, "bob"), Value.FromLong(5))]));

        int written = await Run(scheduler, cluster.SeedAsync(T, [Obj("alice", 100), Obj("bob", 5), Obj("carol", 7)]));
        Assert.Equal(2, written);
        Assert.Equal(11, Value.ToLong(await store.ReadCommittedAsync(new StateKey(T, "alice"))));
        Assert.Equal(5, Value.ToLong(await store.ReadCommittedAsync(new StateKey(T, "bob"))));
        Assert.Equal(7, Value.ToLong(await store.ReadCommittedAsync(new StateKey(T, "carol"))));

        // Seeded keys are ordinary state: workflows see them, and seeding again changes nothing.
        Assert.True((await Run(scheduler, cluster.InvokeAsync("deposit", Key("bob")))).IsCommitted);
        Assert.Equal(0, await Run(scheduler, cluster.SeedAsync(T, [Obj("alice", 100), Obj("bob", 5)])));
        Assert.Equal(15, Value.ToLong(await store.ReadCommittedAsync(new StateKey(T, "bob"))));

        // A migration that means to replace values says so.
        Assert.Equal(2, await Run(scheduler, cluster.SeedAsync(T, [Obj("alice", 100), Obj("bob", 50)], overwrite: true)));
        Assert.Equal(100, Value.ToLong(await store.ReadCommittedAsync(new StateKey(T, "alice"))));
        Assert.Equal(50, Value.ToLong(await store.ReadCommittedAsync(new StateKey(T, "bob"))));
    }

    [Fact]
    public async Task A_seed_whose_batch_was_logged_but_not_committed_is_re_executed_by_the_next_start()
    {
        var scheduler = new DeterministicScheduler(12);
        var durable = new MemoryStateStore();
        durable.Load([]);
        // The first node loses its store at the commit record and stops: the seed's batch is in the log only.
        var failing = new FaultyStore(durable, op => op == "commit" ? new IOException("connection lost") : null);
        var first = new SerializableCluster(new ClusterOptions { Workers = 1, RecoveryAttempts = 0 }, scheduler, failing);
        var interrupted = first.SeedAsync(T, [Obj("dave", 3)]);
        scheduler.RunUntil(() => interrupted.IsCompleted);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => interrupted);
        Assert.Contains("'dave'", e.Message);
        Assert.Contains("Unknown", e.Message);
        Assert.Null(await durable.ReadCommittedAsync(new StateKey(T, "dave")));

        // A fresh node on the same store, with no seed of its own, re-executes the logged seed as it starts.
        var second = new SerializableCluster(new ClusterOptions { Workers = 2 }, scheduler, durable);
        second.Register(Deposit);
        var start = second.StartAsync();
        scheduler.RunUntil(() => start.IsCompleted && second.LastCommittedBatch > 0 || scheduler.Fault is not null);
        await start;
        Assert.Null(scheduler.Fault);
        Assert.Equal(3, Value.ToLong(await durable.ReadCommittedAsync(new StateKey(T, "dave"))));
        Assert.True((await Run(scheduler, second.InvokeAsync("deposit", Key("dave")))).IsCommitted);
        Assert.Equal(13, Value.ToLong(await durable.ReadCommittedAsync(new StateKey(T, "dave"))));
    }

    [Fact]
    public async Task Bad_seed_input_is_refused_before_anything_is_written()
    {
        var scheduler = new DeterministicScheduler(13);
        var store = new MemoryStateStore();
        store.Load([]);
        var cluster = new SerializableCluster(new ClusterOptions { Workers = 1 }, scheduler, store);
        var twice = await Assert.ThrowsAsync<ArgumentException>(() => cluster.SeedAsync(T, [Obj("x", 1), Obj("x", 2)]));
        Assert.Contains("'x'", twice.Message);
        Assert.Contains("twice", twice.Message);
        var nullValue = await Assert.ThrowsAsync<ArgumentException>(() => cluster.SeedAsync(T, [new KeyValuePair<string, byte[]>("y", null!)]));
        Assert.Contains("'y'", nullValue.Message);
        var reserved = Assert.Throws<WorkflowDefinitionException>(() => cluster.Register(new WorkflowBuilder("$seed:accounts")
            .Function("f", f => f.Body(ctx => { })).Build()));
        Assert.Contains("reserved", reserved.Message);
        scheduler.RunToQuiescence();
        Assert.Equal(0, await store.LastCommittedAsync());
    }
}
