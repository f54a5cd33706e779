using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Worker;

/// <summary>
/// Values up to <see cref="ClusterOptions.MaxValueBytes"/> live in the workers' regions and cross between
/// workers by one-sided operations intact; a larger write fails its own workflow with a reason naming the
/// limit, before any region or the store is touched.
/// </summary>
public class LargeValueTests
{
    private const string T = "t";
    private const int MiB = 1 << 20;

    /// <summary>Writes <c>size</c> bytes, each the low byte of its index plus <c>fill</c>, to t/big.</summary>
    private static WorkflowDefinition Put() => new WorkflowBuilder("put")
        .Function("put", f => f.Updates(T, _ => "big").Body(ctx =>
            ctx.Write(T, "big", Pattern((int)ctx.Args.GetLong("size"), (byte)ctx.Args.GetLong("fill")))))
        .Build();

    /// <summary>Reads t/big and returns it whole, so the caller sees exactly what the reading worker got.</summary>
    private static WorkflowDefinition Get() => new WorkflowBuilder("get")
        .Function("get", f => f.Reads(T, _ => "big").Body(ctx => ctx.Read(T, "big")))
        .Build();

    private static byte[] Pattern(int size, byte fill)
    {
        var bytes = new byte[size];
        for (int i = 0; i < size; i++) bytes[i] = (byte)(i + fill);
        return bytes;
    }

    private static Args PutArgs(int size, byte fill) => Args.Create().Set("size", size).Set("fill", fill).Build();

    // Load alone routes and each request is its own batch: the put lands on worker 0, the get (submitted with
    // it, so worker 0 is busier) on worker 1, which reaches the value by a remote access or a lease hand-over.
    private static ClusterOptions Options(int remoteOpUs) => new()
    {
        Workers = 2, MaxBatchSize = 1, AffinityWeight = 0, LoadWeight = 1,
        RemoteOpLatency = TimeSpan.FromMicroseconds(remoteOpUs), LinkLatency = TimeSpan.FromMicroseconds(remoteOpUs),
    };

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 7)]
    [InlineData(3, 50)]
    public void A_value_of_the_maximum_size_written_on_one_worker_is_read_whole_on_another(int seed, int remoteOpUs)
    {
        var sim = new SimulatedCluster(seed, Options(remoteOpUs), [], Put(), Get());
        int put = sim.Submit("put", PutArgs(MiB, fill: 7));
        int get = sim.Submit("get", Args.Empty);
        sim.RunToCompletion();

        Assert.True(sim.Result(put).IsCommitted, $"seed {seed}: {sim.Result(put)}");
        Assert.True(sim.Result(get).IsCommitted, $"seed {seed}: {sim.Result(get)}");
        Assert.True(sim.Cluster.Counters.RemoteAccesses + sim.Cluster.Counters.LeaseTransfers > 0,
            $"seed {seed}: the value never left the worker that wrote it, so this proves nothing about regions");
        Assert.True(sim.Cluster.RemoteOperations > 0, $"seed {seed}: no one-sided operation ran");
        var expected = Pattern(MiB, 7);
        Assert.Equal(expected, sim.Result(get).Outputs[0]);
        Assert.Equal(expected, sim.Committed(new StateKey(T, "big")));
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 7)]
    public void A_value_one_byte_over_the_maximum_fails_its_workflow_naming_the_limit_and_keeps_the_previous_value(int seed, int remoteOpUs)
    {
        var sim = new SimulatedCluster(seed, Options(remoteOpUs), [], Put(), Get());
        int first = sim.Submit("put", PutArgs(MiB, fill: 1));
        int tooLarge = sim.Submit("put", PutArgs(MiB + 1, fill: 2));
        int get = sim.Submit("get", Args.Empty);
        sim.RunToCompletion();

        Assert.True(sim.Result(first).IsCommitted, $"seed {seed}: {sim.Result(first)}");
        var refused = sim.Result(tooLarge);
        Assert.Equal(WorkflowStatus.Failed, refused.Status);
        Assert.Equal($"function 'put' wrote {MiB + 1} bytes to t/big; the configured maximum value size is {MiB} bytes (MaxValueBytes)", refused.Reason);
        var previous = Pattern(MiB, 1);
        Assert.True(sim.Result(get).IsCommitted, $"seed {seed}: {sim.Result(get)}");
        Assert.Equal(previous, sim.Result(get).Outputs[0]);
        Assert.Equal(previous, sim.Committed(new StateKey(T, "big")));
    }

    [Fact]
    public void A_raised_maximum_admits_a_larger_value_and_still_refuses_one_byte_more()
    {
        var options = Options(0) with { MaxValueBytes = 3 * MiB };
        var sim = new SimulatedCluster(1, options, [], Put(), Get());
        int put = sim.Submit("put", PutArgs(3 * MiB, fill: 3));
        int over = sim.Submit("put", PutArgs(3 * MiB + 1, fill: 4));
        int get = sim.Submit("get", Args.Empty);
        sim.RunToCompletion();

        Assert.True(sim.Result(put).IsCommitted, sim.Result(put).ToString());
        Assert.Equal(WorkflowStatus.Failed, sim.Result(over).Status);
        Assert.Contains($"the configured maximum value size is {3 * MiB} bytes (MaxValueBytes)", sim.Result(over).Reason);
        Assert.Equal(Pattern(3 * MiB, 3), sim.Result(get).Outputs[0]);
    }

    [Theory]
    [InlineData(MiB - 1)]
    [InlineData(64 * MiB + 1)]
    [InlineData(0)]
    public void A_maximum_value_size_outside_1_to_64_MiB_is_refused_naming_the_option(int maxValueBytes)
    {
        var e = Assert.Throws<ArgumentException>(() => new ClusterOptions { MaxValueBytes = maxValueBytes }.Validate());
        Assert.Contains("MaxValueBytes", e.Message);
        Assert.Contains(maxValueBytes.ToString(), e.Message);
    }

    [Theory]
    [InlineData(MiB)]
    [InlineData(64 * MiB)]
    public void The_bounds_of_the_maximum_value_size_are_accepted(int maxValueBytes) =>
        new ClusterOptions { MaxValueBytes = maxValueBytes }.Validate();
}
