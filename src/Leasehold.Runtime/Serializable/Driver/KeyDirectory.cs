namespace Leasehold.Runtime.Serializable.Driver;

/// <summary>
/// Interns every object the cluster has seen as a dense id, in first-seen order (so ids are deterministic
/// for a given admission order). Ids address slots in memory regions and rows of the driver's tables.
/// </summary>
internal sealed class KeyDirectory
{
    private readonly Dictionary<StateKey, int> _ids = [];
    private readonly List<StateKey> _keys = [];

    public int Count => _keys.Count;

    public int Intern(StateKey key)
    {
        if (_ids.TryGetValue(key, out int id)) return id;
        id = _keys.Count;
        _ids.Add(key, id);
        _keys.Add(key);
        return id;
    }

    public StateKey this[int id] => _keys[id];
}
