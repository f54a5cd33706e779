using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Scheduling;

namespace Leasehold.Baselines.Causal.Versioned;

/// <summary>
/// The versioned store the baselines share (§8: "same store"): P partitions, a key on the partition its
/// stable hash names, each reached over the network (one latency per hop, each way). Every call is a
/// message from a node's mailbox and a reply back to it; the caller's callback runs on its own mailbox.
/// </summary>
internal sealed class VersionedStore
{
    private readonly BaselineNet _net;

    public VersionedStore(CausalOptions options, IScheduler scheduler, BaselineNet net, Func<StateKey, byte[]?> initial)
    {
        _net = net;
        int p = options.StorePartitions > 0 ? options.StorePartitions : options.Servers;
        Partitions = [.. Enumerable.Range(0, p).Select(i => new StorePartition(i, p, scheduler, net, options, initial))];
    }

    public IReadOnlyList<StorePartition> Partitions { get; }

    public StorePartition PartitionOf(StateKey key) => Partitions[StoreKeys.PartitionOf(key, Partitions.Count)];

    /// <summary>Subscribes a cache to every partition's notifications (before any traffic: done at construction).</summary>
    public void Subscribe(BaselineNode cache, Action<StoreNotification> deliver)
    {
        foreach (var p in Partitions) p.Subscribe(cache, deliver);
    }

    /// <summary>Groups versions (or anything keyed) by partition, in partition order (deterministic).</summary>
    public SortedDictionary<int, List<T>> ByPartition<T>(IEnumerable<T> items, Func<T, StateKey> key)
    {
        var groups = new SortedDictionary<int, List<T>>();
        foreach (var item in items)
        {
            int p = StoreKeys.PartitionOf(key(item), Partitions.Count);
            if (!groups.TryGetValue(p, out var list)) groups[p] = list = [];
            list.Add(item);
        }
        return groups;
    }

    /// <summary>HydroCache's commit: each partition installs its part of the write set; <paramref name="done"/> once all acknowledged.</summary>
    public void Write(BaselineNode from, IReadOnlyList<StoredVersion> versions, Action done)
    {
        var groups = ByPartition(versions, v => v.Key);
        if (groups.Count == 0)
        {
            done();
            return;
        }
        int left = groups.Count;
        foreach (var (p, part) in groups)
        {
            var partition = Partitions[p];
            _net.Send(from.Mailbox, partition.Node, () =>
            {
                partition.Write(part);
                _net.Send(partition.Node.Mailbox, from, () => { if (--left == 0) done(); });
            });
        }
    }

    /// <summary>An exact version from its partition (null: dropped from the history or never written).</summary>
    public void ReadExact(BaselineNode from, VersionId id, Action<StoredVersion?> reply)
    {
        var partition = PartitionOf(id.Key);
        _net.Send(from.Mailbox, partition.Node, () =>
        {
            var v = partition.ReadExact(id);
            _net.Send(partition.Node.Mailbox, from, () => reply(v));
        });
    }

    /// <summary>FaaSTCC's refetch: the version valid inside [low, high] from the key's partition.</summary>
    public void ReadAt(BaselineNode from, StateKey key, long low, long high, Action<TimedRead> reply)
    {
        var partition = PartitionOf(key);
        _net.Send(from.Mailbox, partition.Node, () =>
            partition.ReadAt(key, low, high, read => _net.Send(partition.Node.Mailbox, from, () => reply(read))));
    }

    /// <summary>
    /// FaaSTCC's commit, a two-phase commit coordinated by <paramref name="from"/> (the cache that ran the
    /// workflow's last function): every partition of the write set proposes a timestamp above
    /// <paramref name="above"/> (the transaction's snapshot) and holds its promise below it; the commit
    /// timestamp is the largest proposal (unique: proposals encode their partition); <paramref name="decided"/>
    /// gets it as soon as it is chosen, while the decisions travel (a read that needs them waits at the partition).
    /// </summary>
    public void Commit(BaselineNode from, IReadOnlyList<StoredVersion> versions, long above, Action<long> decided)
    {
        var groups = ByPartition(versions, v => v.Key);
        int left = groups.Count;
        var proposals = new SortedDictionary<int, long>();
        foreach (var (p, _) in groups)
        {
            var partition = Partitions[p];
            _net.Send(from.Mailbox, partition.Node, () =>
            {
                long proposal = partition.Prepare(above);
                _net.Send(partition.Node.Mailbox, from, () =>
                {
                    proposals[p] = proposal;
                    if (--left > 0) return;
                    long commit = proposals.Values.Max();
                    foreach (var (q, part) in groups)
                    {
                        var target = Partitions[q];
                        long mine = proposals[q];
                        _net.Send(from.Mailbox, target.Node, () => target.Decide(mine, commit, part));
                    }
                    decided(commit);
                });
            });
        }
    }
}
