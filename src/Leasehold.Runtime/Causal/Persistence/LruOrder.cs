namespace Leasehold.Runtime.Causal.Persistence;

/// <summary>
/// Keys in order of last use, oldest first: the eviction order. Driven only by the server's own steps,
/// never by hash order, so a seed replays the same evictions.
/// </summary>
internal sealed class LruOrder
{
    private readonly LinkedList<StateKey> _order = new();
    private readonly Dictionary<StateKey, LinkedListNode<StateKey>> _nodes = [];

    public int Count => _nodes.Count;

    public void Touch(StateKey key)
    {
        if (_nodes.TryGetValue(key, out var node)) _order.Remove(node);
        else _nodes[key] = node = new LinkedListNode<StateKey>(key);
        _order.AddLast(node);
    }

    public void Remove(StateKey key)
    {
        if (_nodes.Remove(key, out var node)) _order.Remove(node);
    }

    /// <summary>Up to <paramref name="limit"/> keys, oldest first; a snapshot, so the caller may remove keys while it walks.</summary>
    public List<StateKey> Oldest(int limit)
    {
        var keys = new List<StateKey>(Math.Min(limit, _nodes.Count));
        for (var node = _order.First; node is not null && keys.Count < limit; node = node.Next) keys.Add(node.Value);
        return keys;
    }
}
