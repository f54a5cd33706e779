using Leasehold;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;
using Leasehold.Tests.Support;
using Xunit;

namespace Leasehold.Tests.Recovery;

public class BatchClockExtensionTests
{
    private static readonly WorkflowDefinition Now = new WorkflowBuilder("now")
        .Function("now", f => f
            .Updates("clock", _ => "last")
            .Body(ctx =>
            {
                ctx.WriteLong("clock", "last", ctx.BatchTime.UtcTicks);
                return Value.FromLong(ctx.BatchTime.UtcTicks);
            }))
        .Build();

    /// <summary>
    /// The reply of one extension of the batch-time bound is lost after the store applied it (a timeout on the
    /// way back). If the driver kept the old record as its CompareAndSet expectation, every later extension would
    /// be refused and ctx.BatchTime would stay frozen at the old bound for the rest of the life (seed 31).
    /// </summary>
    [Theory]
    [InlineData(31)]
    [InlineData(32)]
    public void A_lost_reply_of_an_extension_does_not_freeze_batch_time(int seed)
    {
        var memory = new MemoryStateStore();
        bool armed = false, lost = false;
        var store = new FaultyStore(memory, _ => null, faultAfter: op =>
        {
            if (!armed || lost || op != "cas") return null;
            lost = true;
            return new IOException("reply of the extension lost");
        });
        var options = new ClusterOptions { Workers = 2, MaxBatchSize = 1, RemoteOpLatency = TimeSpan.FromMicroseconds(7), LinkLatency = TimeSpan.FromMicroseconds(7) };
        var node = new Node(seed, store, options, [Now]);
        node.Start();
        armed = true;
        long first = 0, last = 0;
        for (int second = 0; second < 12; second++)
        {
            int i = node.Submit("now", Args.Create().Build());
            node.RunUntil(() => node.AllAnswered, "stamped");
            Assert.True(node.Result(i).IsCommitted, $"seed {seed}: {node.Result(i)}");
            long t = Value.ToLong(node.Result(i).Outputs[0]);
            if (second == 0) first = t;
            Assert.True(t >= last, $"seed {seed}: batch time went back");
            last = t;
            node.Scheduler.After(TimeSpan.FromSeconds(1), () => { });
            node.Quiesce();
        }
        Assert.True(lost, $"seed {seed}: no extension was made");
        Assert.True(TimeSpan.FromTicks(last - first) > TimeSpan.FromSeconds(8),
            $"seed {seed}: over 11 s of clock, ctx.BatchTime moved only {TimeSpan.FromTicks(last - first)}: frozen at the bound after a lost extension reply");
    }
}
