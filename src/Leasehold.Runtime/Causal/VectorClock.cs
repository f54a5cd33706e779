using System.Text;

namespace Leasehold.Runtime.Causal;

/// <summary>
/// An immutable vector clock, one entry per cache server. Versions are ordered by it (happened-before
/// is ≤ and ≠), and writes are ordered by <see cref="CompareArbitration"/> so every server merges
/// them to the same winner (convergence).
/// </summary>
public sealed class VectorClock : IEquatable<VectorClock>
{
    private readonly long[] _entries;

    private VectorClock(long[] entries) => _entries = entries;

    public static VectorClock Zero(int servers) => new(new long[servers]);

    /// <summary>A clock from its entries (copied).</summary>
    public static VectorClock Of(params long[] entries) => new([.. entries]);

    public int Count => _entries.Length;
    public long this[int server] => _entries[server];
    public ReadOnlySpan<long> Entries => _entries;

    public bool IsZero => _entries.AsSpan().IndexOfAnyExcept(0L) < 0;

    /// <summary>Pointwise maximum; returns an operand itself when it already dominates.</summary>
    public VectorClock Join(VectorClock other)
    {
        if (other.LessOrEqual(this)) return this;
        if (LessOrEqual(other)) return other;
        var joined = new long[_entries.Length];
        for (int i = 0; i < joined.Length; i++) joined[i] = Math.Max(_entries[i], other._entries[i]);
        return new VectorClock(joined);
    }

    /// <summary>Pointwise ≤: everything this clock has seen, <paramref name="other"/> has seen too.</summary>
    public bool LessOrEqual(VectorClock other)
    {
        for (int i = 0; i < _entries.Length; i++)
            if (_entries[i] > other._entries[i]) return false;
        return true;
    }

    /// <summary>The deterministic tie-break between concurrent clocks: entry by entry, lowest server first.</summary>
    public int CompareLexicographic(VectorClock other)
    {
        for (int i = 0; i < _entries.Length; i++)
        {
            int c = _entries[i].CompareTo(other._entries[i]);
            if (c != 0) return c;
        }
        return 0;
    }

    /// <summary>
    /// The arbitration order of concurrent writes: a total order that extends happened-before (a write
    /// after another has a strictly larger entry sum), ties by <see cref="CompareLexicographic"/>.
    /// </summary>
    public static int CompareArbitration(VectorClock a, VectorClock b)
    {
        long sa = 0, sb = 0;
        foreach (long e in a._entries) sa += e;
        foreach (long e in b._entries) sb += e;
        int c = sa.CompareTo(sb);
        return c != 0 ? c : a.CompareLexicographic(b);
    }

    public bool Equals(VectorClock? other) => other is not null && _entries.AsSpan().SequenceEqual(other._entries);
    public override bool Equals(object? obj) => Equals(obj as VectorClock);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (long e in _entries) hash.Add(e);
        return hash.ToHashCode();
    }

    public override string ToString()
    {
        var s = new StringBuilder("[");
        for (int i = 0; i < _entries.Length; i++) s.Append(i == 0 ? "" : ",").Append(_entries[i]);
        return s.Append(']').ToString();
    }
}
