using System.Numerics;

namespace Leasehold.Checkers.Causal;

/// <summary>
/// Vector clocks over chains, all of one width, in large pooled slabs (a handle, not an array each: a
/// million small arrays would cost headers and GC time). Entry c is how many of chain c's writes are in
/// the causal past. Freed handles are reused, so memory follows the clocks alive at once: every write
/// node's (kept to the end) plus the sweep's frontier.
/// </summary>
internal sealed class VectorClocks
{
    private const int SlabInts = 1 << 20;
    private readonly int _width;
    private readonly int _perSlab;
    private readonly List<int[]> _slabs = [];
    private readonly Stack<int> _free = new();
    private int _next;

    public VectorClocks(int width)
    {
        _width = width;
        _perSlab = Math.Max(1, SlabInts / Math.Max(1, width));
    }

    public int Width => _width;

    /// <summary>A zeroed clock.</summary>
    public int Allocate()
    {
        if (_free.TryPop(out int reused))
        {
            this[reused].Clear();
            return reused;
        }
        int handle = _next++;
        if (handle / _perSlab == _slabs.Count) _slabs.Add(new int[_perSlab * _width]);
        return handle;
    }

    public void Free(int handle) => _free.Push(handle);

    public Span<int> this[int handle] => _slabs[handle / _perSlab].AsSpan(handle % _perSlab * _width, _width);

    /// <summary><paramref name="into"/> := <paramref name="into"/> ⊔ <paramref name="other"/>, pointwise max.</summary>
    public static void Join(Span<int> into, ReadOnlySpan<int> other)
    {
        // Every session edge joins a whole clock (O(C) each): SIMD max, as many lanes at once as the hardware has.
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i + Vector<int>.Count <= into.Length; i += Vector<int>.Count)
            {
                var a = new Vector<int>(into[i..]);
                Vector.Max(a, new Vector<int>(other[i..])).CopyTo(into[i..]);
            }
        for (; i < into.Length; i++)
            if (other[i] > into[i]) into[i] = other[i];
    }
}
