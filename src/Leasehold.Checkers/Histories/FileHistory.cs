namespace Leasehold.Checkers.Histories;

/// <summary>
/// A JSON-lines history file, read one line at a time with a reused buffer. Blank lines are skipped;
/// so are the operations of non-client processes (Jepsen's nemesis); anything else that is not an operation is a
/// <see cref="HistoryFormatException"/> naming the line.
/// </summary>
public sealed class FileHistory(string path) : IHistorySource
{
    /// <summary>A line longer than this is refused rather than buffered without bound.</summary>
    public const int MaxLineBytes = JsonLinesFile.MaxLineBytes;

    public string Name => path;

    public IEnumerable<HistoryOp> Read()
    {
        foreach (var op in JsonLinesFile.Read(path, HistoryJson.Parse))
            if (op is not null) yield return op; // null: not a client's operation (a nemesis)
    }
}
