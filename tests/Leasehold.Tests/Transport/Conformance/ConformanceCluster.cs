using System.Collections.Concurrent;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Tests.Transport.Conformance;

/// <summary>
/// A cluster of "processes" for the conformance suite: process i hosts worker-i and server-i, and process 0
/// also driver-0 and client-0. Each has a transport, a one-sided layer and a scheduler; in process they may
/// all be the same objects. A transport that cannot lose a link or be fed raw bytes leaves those members at
/// their defaults, and the tests that need them skip.
/// </summary>
public abstract class ConformanceCluster : IAsyncDisposable
{
    public abstract IReadOnlyList<ConformanceProcess> Processes { get; }

    /// <summary>Whether links can be lost (and <see cref="KillAsync"/> works).</summary>
    public virtual bool HasLinks => false;

    /// <summary>Makes process <paramref name="index"/> disappear as a crash would: its connections close, it sends nothing more.</summary>
    public virtual Task KillAsync(int index) => throw new NotSupportedException();

    public abstract ValueTask DisposeAsync();

    public ConformanceProcess this[int index] => Processes[index];
}

/// <summary>One process of a <see cref="ConformanceCluster"/>.</summary>
public sealed class ConformanceProcess(string name, ITransport transport, IOneSided oneSided, IScheduler scheduler)
{
    private readonly ConcurrentQueue<(string Peer, string Reason)> _lost = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _lostWaiters = new();

    public string Name { get; } = name;
    public ITransport Transport { get; } = transport;
    public IOneSided OneSided { get; } = oneSided;
    public IScheduler Scheduler { get; } = scheduler;

    /// <summary>Every link loss this process reported, in order.</summary>
    public IReadOnlyList<(string Peer, string Reason)> LinksLost => _lost.ToArray();

    /// <summary>Completes with the reason once this process reports losing its link to <paramref name="peer"/>.</summary>
    public Task<string> LinkLostTo(string peer) => _lostWaiters.GetOrAdd(peer, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>The cluster calls this from its transport's link-lost event.</summary>
    public void ReportLinkLost(string peer, string reason)
    {
        _lost.Enqueue((peer, reason));
        _lostWaiters.GetOrAdd(peer, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(reason);
    }

    public static NodeId WorkerOf(int process) => NodeId.Worker(process);
    public static NodeId ServerOf(int process) => NodeId.CacheServer(process);

    public override string ToString() => Name;
}
