namespace Leasehold.Runtime.Transport;

/// <summary>
/// One variable-size slot of a registered memory region: a value and, after it, a lease flag (the id of
/// the worker allowed to touch the object). Writers store the value first and the flag last, and readers
/// read the flag first, so a reader that sees its own id also sees the value written before it.
/// </summary>
public sealed class Slot
{
    /// <summary>The flag of a slot no worker has filled yet.</summary>
    public const int NoOwner = -1;
    private byte[]? _value;
    private int _flag;
    private readonly Lock _lock = new();

    internal Slot(int flag) => _flag = flag;

    public SlotContents Read()
    {
        lock (_lock) return new SlotContents(_flag, _value);
    }

    public void WriteValueThenFlag(byte[]? value, int flag)
    {
        lock (_lock)
        {
            _value = value;
            Volatile.Write(ref _flag, flag);
        }
    }

    public void WriteValue(byte[]? value)
    {
        lock (_lock) _value = value;
    }

    public void WriteFlag(int flag)
    {
        lock (_lock) Volatile.Write(ref _flag, flag);
    }

    public bool CompareAndSwapFlag(int expected, int desired)
    {
        lock (_lock)
        {
            if (_flag != expected) return false;
            _flag = desired;
            return true;
        }
    }

    public int Flag => Volatile.Read(ref _flag);
}

public readonly record struct SlotContents(int Flag, byte[]? Value);

/// <summary>
/// A worker's registered memory: one slot per object id, allocated on first use. The owner touches its
/// slots directly; other workers only through <see cref="RemoteMemory"/>'s one-sided operations.
/// </summary>
public sealed class MemoryRegion
{
    private const int ChunkBits = 12;
    private const int ChunkSize = 1 << ChunkBits;
    private Slot?[]?[] _chunks = new Slot?[]?[16];
    private readonly Lock _grow = new();

    public MemoryRegion(int owner) => Owner = owner;

    public int Owner { get; }

    /// <summary>The slot of object <paramref name="id"/>, created empty (flag <see cref="Slot.NoOwner"/>) when first touched.</summary>
    public Slot this[int id]
    {
        get
        {
            var chunks = Volatile.Read(ref _chunks);
            int c = id >> ChunkBits;
            var chunk = c < chunks.Length ? chunks[c] : null;
            var slot = chunk?[id & (ChunkSize - 1)];
            return slot ?? Create(id);
        }
    }

    private Slot Create(int id)
    {
        lock (_grow)
        {
            int c = id >> ChunkBits;
            if (c >= _chunks.Length)
            {
                var bigger = new Slot?[]?[Math.Max(c + 1, _chunks.Length * 2)];
                Array.Copy(_chunks, bigger, _chunks.Length);
                Volatile.Write(ref _chunks, bigger);
            }
            var chunk = _chunks[c] ??= new Slot?[ChunkSize];
            return chunk[id & (ChunkSize - 1)] ??= new Slot(Slot.NoOwner);
        }
    }
}
