using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Tests.Transport.Conformance;

/// <summary>The in-process transport: every "process" shares one <see cref="InprocTransport"/> and one <see cref="OneSidedMemory"/> (no latency).</summary>
public sealed class InprocConformanceTests : TransportConformanceTests
{
    protected override Task<ConformanceCluster> StartAsync(int processes) => Task.FromResult<ConformanceCluster>(new InprocCluster(processes));

    private sealed class InprocCluster : ConformanceCluster
    {
        private readonly ThreadPoolScheduler _scheduler = new();

        public InprocCluster(int processes)
        {
            var transport = new InprocTransport(_scheduler, TimeSpan.Zero);
            var memory = new OneSidedMemory(_scheduler, TimeSpan.Zero);
            Processes = Enumerable.Range(0, processes).Select(i => new ConformanceProcess($"p{i}", transport, memory, _scheduler)).ToList();
        }

        public override IReadOnlyList<ConformanceProcess> Processes { get; }

        public override ValueTask DisposeAsync()
        {
            Assert.Null(_scheduler.Fault);
            _scheduler.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
