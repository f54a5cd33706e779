namespace Leasehold.Runtime.Serializable.Worker;

/// <summary>
/// The operations on one key in (ts, position) order. Entries mostly arrive in order, so insertion
/// scans back from the tail; the head advances by index and the array compacts when half is dead.
/// </summary>
internal sealed class OperationChain
{
    private ChainEntry?[] _items = new ChainEntry?[4];
    private int _head;
    private int _tail;

    public int Count => _tail - _head;
    public ChainEntry? Head => _head < _tail ? _items[_head] : null;

    public void Insert(ChainEntry entry)
    {
        if (_tail == _items.Length)
        {
            if (_head > 0) Compact();
            else Array.Resize(ref _items, _items.Length * 2);
        }
        int i = _tail;
        while (i > _head && _items[i - 1]!.CompareTo(entry) > 0) i--;
        if (i > _head && _items[i - 1]!.CompareTo(entry) == 0)
            throw new InvalidOperationException($"two chain entries at the same (ts, position): {entry}");
        if (i == _head && _head < _tail && _items[_head]!.Active)
            throw new InvalidOperationException($"entry {entry} would land ahead of the active head {_items[_head]}: a record arrived late");
        Array.Copy(_items, i, _items, i + 1, _tail - i);
        _items[i] = entry;
        _tail++;
    }

    public ChainEntry PopHead(ChainEntry expected)
    {
        var head = Head ?? throw new InvalidOperationException($"pop of {expected} from an empty chain");
        if (!ReferenceEquals(head, expected)) throw new InvalidOperationException($"pop of {expected} but the head is {head}");
        _items[_head++] = null;
        if (_head == _tail) _head = _tail = 0;
        return head;
    }

    private void Compact()
    {
        int n = _tail - _head;
        Array.Copy(_items, _head, _items, 0, n);
        Array.Clear(_items, n, _items.Length - n);
        _head = 0;
        _tail = n;
        if (n == _items.Length) Array.Resize(ref _items, _items.Length * 2);
    }
}
