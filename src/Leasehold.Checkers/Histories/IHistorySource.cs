namespace Leasehold.Checkers.Histories;

/// <summary>
/// A history that can be read from the start more than once: the checkers stream it twice instead of
/// holding every read in memory.
/// </summary>
public interface IHistorySource
{
    /// <summary>A name for messages (the file's path).</summary>
    string Name { get; }

    IEnumerable<HistoryOp> Read();
}

/// <summary>A history held in memory (tests, in-process runs).</summary>
public sealed class MemoryHistory(IReadOnlyList<HistoryOp> ops, string name = "history") : IHistorySource
{
    public string Name => name;

    public IReadOnlyList<HistoryOp> Ops => ops;

    public IEnumerable<HistoryOp> Read() => ops;
}
