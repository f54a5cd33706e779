using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Leasehold.Runtime.Causal;

/// <summary>
/// A version's dependencies (key → the clock of the version it depends on), immutable and held as two arrays:
/// plain data, so a version can cross between nodes as it is. Small (a write's session, pruned), so a lookup
/// scans; the protocol only ever enumerates them.
/// </summary>
public sealed class Dependencies : IReadOnlyDictionary<StateKey, VectorClock>
{
    private readonly StateKey[] _keys;
    private readonly VectorClock[] _clocks;

    public static Dependencies None { get; } = new([], []);

    private Dependencies(StateKey[] keys, VectorClock[] clocks)
    {
        _keys = keys;
        _clocks = clocks;
    }

    /// <summary>A copy of <paramref name="deps"/>, in its enumeration order.</summary>
    public static Dependencies Of(IReadOnlyCollection<KeyValuePair<StateKey, VectorClock>> deps)
    {
        if (deps.Count == 0) return None;
        var keys = new StateKey[deps.Count];
        var clocks = new VectorClock[deps.Count];
        int i = 0;
        foreach (var (key, clock) in deps)
        {
            keys[i] = key;
            clocks[i++] = clock;
        }
        return new Dependencies(keys, clocks);
    }

    public static implicit operator Dependencies(Dictionary<StateKey, VectorClock> deps) => Of(deps);

    public int Count => _keys.Length;
    public IEnumerable<StateKey> Keys => _keys;
    public IEnumerable<VectorClock> Values => _clocks;
    public VectorClock this[StateKey key] => TryGetValue(key, out var clock) ? clock : throw new KeyNotFoundException($"no dependency on {key}");
    public bool ContainsKey(StateKey key) => Array.IndexOf(_keys, key) >= 0;

    public bool TryGetValue(StateKey key, [MaybeNullWhen(false)] out VectorClock value)
    {
        int i = Array.IndexOf(_keys, key);
        value = i >= 0 ? _clocks[i] : null;
        return i >= 0;
    }

    public IEnumerator<KeyValuePair<StateKey, VectorClock>> GetEnumerator()
    {
        for (int i = 0; i < _keys.Length; i++) yield return new(_keys[i], _clocks[i]);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
