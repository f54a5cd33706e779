using BenchmarkDotNet.Attributes;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Benchmarks;

public enum SchedulerKind
{
    /// <summary>The deterministic mode's scheduler: the completion is queued on the mailbox and run by one Step.</summary>
    Deterministic,
    /// <summary><see cref="InlineScheduler"/>: the completion runs at once, so only the one-sided memory's own cost remains.</summary>
    Inline,
}

/// <summary>
/// One-sided operations through <see cref="OneSidedMemory"/> with zero latency: issue, apply to the remote
/// region, and deliver the completion to the requester's mailbox (one scheduler step in the deterministic
/// mode). Slots are spread over 100,000 ids of worker 1's region; completion callbacks are cached delegates.
/// </summary>
[MemoryDiagnoser]
public class OneSidedMemoryBenchmarks
{
    private const int Slots = 100_000;
    private const int Pool = 4096;
    private IScheduler _scheduler = null!;
    private DeterministicScheduler? _deterministic;
    private static readonly RegionKey Worker1 = new(1, 0);
    private OneSidedMemory _memory = null!;
    private Mailbox _replyTo = null!;
    private int[] _ids = null!;
    private int[] _flags = null!;
    private readonly byte[] _value = new byte[8];
    private Action<SlotSnapshot> _onRead = null!;
    private Action _onWrite = null!;
    private Action<bool> _onSwap = null!;
    private int _next;
    private int _completions;
    private int _lastFlag;
    private bool _lastSwapped;

    [Params(SchedulerKind.Deterministic, SchedulerKind.Inline)]
    public SchedulerKind Scheduler { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _scheduler = Scheduler == SchedulerKind.Deterministic ? (_deterministic = new DeterministicScheduler(1)) : new InlineScheduler();
        var region = new RegionMemory(1);
        for (int id = 0; id < Slots; id++) region.WriteValueThenFlag(id, new byte[8], 0);
        _memory = new OneSidedMemory(_scheduler, TimeSpan.Zero);
        _memory.Register(Worker1, region);
        _replyTo = _scheduler.CreateMailbox("worker-0");
        var random = new Random(3);
        _ids = Enumerable.Range(0, Pool).Select(_ => random.Next(Slots)).ToArray();
        _flags = new int[Slots];
        _onRead = contents => { _lastFlag = contents.Flag; _completions++; };
        _onWrite = () => _completions++;
        _onSwap = swapped => { _lastSwapped = swapped; _completions++; };

        // Every operation completes within one step, and every swap succeeds.
        for (int i = 0; i < 3 * Pool; i++)
        {
            int before = _completions;
            switch (i % 3)
            {
                case 0: Read(); break;
                case 1: WriteValueThenFlag(); break;
                default: if (!CompareAndSwapFlag()) throw new InvalidOperationException("a compare-and-swap failed"); break;
            }
            if (_completions != before + 1) throw new InvalidOperationException("an operation did not complete within one step");
        }
    }

    [Benchmark]
    public int Read()
    {
        _memory.Read(Worker1, _ids[_next++ & (Pool - 1)], _replyTo, _onRead);
        _deterministic?.Step();
        return _lastFlag;
    }

    /// <summary>Writes the value and the flag it already holds, so the flags stay what the swaps expect.</summary>
    [Benchmark]
    public int WriteValueThenFlag()
    {
        int id = _ids[_next++ & (Pool - 1)];
        _memory.WriteValueThenFlag(Worker1, id, _value, _flags[id], _replyTo, _onWrite);
        _deterministic?.Step();
        return _completions;
    }

    /// <summary>Flips the slot's flag between 0 and 1: always a successful swap.</summary>
    [Benchmark]
    public bool CompareAndSwapFlag()
    {
        int id = _ids[_next++ & (Pool - 1)];
        int expected = _flags[id];
        _flags[id] = expected ^ 1;
        _memory.CompareAndSwapFlag(Worker1, id, expected, expected ^ 1, _replyTo, _onSwap);
        _deterministic?.Step();
        return _lastSwapped;
    }
}

/// <summary>
/// The region itself, as its owner touches it: operations on one slot of a <see cref="RegionMemory"/> (each under
/// the region's lock), and reads spread over 100,000 existing slots (25 header chunks of 4,096) in random order.
/// </summary>
[MemoryDiagnoser]
public class RegionMemoryBenchmarks
{
    private const int Slots = 100_000;
    private const int Pool = 4096;
    private const int Slot = 12_345;
    private RegionMemory _region = null!;
    private int[] _ids = null!;
    private readonly byte[] _value = new byte[8];
    private readonly byte[] _buffer = new byte[64];
    private int _next;
    private int _flag;

    [GlobalSetup]
    public void Setup()
    {
        _region = new RegionMemory(0);
        for (int id = 0; id < Slots; id++) _region.WriteValueThenFlag(id, _value, 0);
        var random = new Random(4);
        _ids = Enumerable.Range(0, Pool).Select(_ => random.Next(Slots)).ToArray();
    }

    [Benchmark]
    public int SlotRead() => _region.Read(Slot).Flag;

    [Benchmark]
    public int SlotWriteValueThenFlag()
    {
        _region.WriteValueThenFlag(Slot, _value, _flag);
        return _flag;
    }

    [Benchmark]
    public bool SlotCompareAndSwapFlag()
    {
        int expected = _flag;
        _flag ^= 1;
        return _region.CompareAndSwapFlag(Slot, expected, expected ^ 1);
    }

    /// <summary>A read that copies into the caller's buffer (no allocation), at a random one of 100,000 slots.</summary>
    [Benchmark]
    public int RandomSlotTryRead()
    {
        _region.TryRead(_ids[_next++ & (Pool - 1)], _buffer, out int flag, out _);
        return flag;
    }
}
