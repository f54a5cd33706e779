namespace Leasehold.Runtime.Storage;

/// <summary>
/// The stored versions of one key in <see cref="MemoryStateStore"/>, oldest first. The store owns every
/// buffer here (values are copied in and out), so a buffer that pruning drops is kept as a spare and the
/// next version of the same length is copied into it: a key rewritten batch after batch alternates two
/// buffers instead of allocating, and the long-lived store stops pointing at freshly allocated arrays
/// (each such pointer makes the next young collection scan it).
/// </summary>
internal sealed class KeyVersions
{
    private (long Batch, byte[]? Value)[] _items = new (long, byte[]?)[2];
    private int _count;
    private byte[]? _spare;

    public int Count => _count;
    public long BatchAt(int i) => _items[i].Batch;
    public byte[]? ValueAt(int i) => _items[i].Value;

    /// <summary>Stores a copy of <paramref name="value"/> as the version of <paramref name="batch"/>, replacing one already there.</summary>
    public void Put(long batch, byte[]? value)
    {
        var copy = CopyIntoSpare(value);
        int i = _count;
        while (i > 0 && _items[i - 1].Batch > batch) i--;
        if (i > 0 && _items[i - 1].Batch == batch)
        {
            Recycle(_items[i - 1].Value);
            _items[i - 1].Value = copy;
            return;
        }
        if (_count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
        Array.Copy(_items, i, _items, i + 1, _count - i);
        _items[i] = (batch, copy);
        _count++;
    }

    /// <summary>Drops the versions older than the newest one at or below <paramref name="committed"/>: nobody can read them any more.</summary>
    public void PruneBelowNewestCommitted(long committed)
    {
        int newest = _count - 1;
        while (newest >= 0 && _items[newest].Batch > committed) newest--;
        if (newest <= 0) return;
        for (int i = 0; i < newest; i++) Recycle(_items[i].Value);
        RemoveRange(0, newest);
    }

    /// <summary>Drops the version of <paramref name="batch"/>; the number dropped (0 or 1).</summary>
    public int Remove(long batch)
    {
        for (int i = 0; i < _count; i++)
            if (_items[i].Batch == batch)
            {
                Recycle(_items[i].Value);
                RemoveRange(i, 1);
                return 1;
            }
        return 0;
    }

    /// <summary>The index of the newest version at or below <paramref name="committed"/>, or −1.</summary>
    public int NewestCommitted(long committed)
    {
        for (int i = _count - 1; i >= 0; i--)
            if (_items[i].Batch <= committed) return i;
        return -1;
    }

    private byte[]? CopyIntoSpare(byte[]? value)
    {
        if (value is null) return null;
        byte[] copy;
        if (_spare is { } spare && spare.Length == value.Length)
        {
            copy = spare;
            _spare = null;
        }
        else copy = new byte[value.Length];
        value.AsSpan().CopyTo(copy);
        return copy;
    }

    private void Recycle(byte[]? dropped)
    {
        if (dropped is not null) _spare = dropped;
    }

    private void RemoveRange(int index, int n)
    {
        Array.Copy(_items, index + n, _items, index, _count - index - n);
        _count -= n;
        Array.Clear(_items, _count, n);
    }
}
