using Leasehold.Checkers.Histories;

namespace Leasehold.Checkers.Causal;

/// <summary>A causal-mode history: one record per function execution, in any order.</summary>
public interface ICausalHistorySource
{
    /// <summary>A name for messages (the file's path).</summary>
    string Name { get; }

    IEnumerable<CausalRecord> Read();
}

/// <summary>A history held in memory (tests, in-process runs).</summary>
public sealed class CausalMemoryHistory(IReadOnlyList<CausalRecord> records, string name = "history") : ICausalHistorySource
{
    public string Name => name;

    public IReadOnlyList<CausalRecord> Records => records;

    public IEnumerable<CausalRecord> Read() => records;
}

/// <summary>
/// A JSON-lines file of <see cref="CausalHistoryJson"/> records. Any line that is not one is a
/// <see cref="Histories.HistoryFormatException"/> naming it.
/// </summary>
public sealed class CausalFileHistory(string path) : ICausalHistorySource
{
    public string Name => path;

    public IEnumerable<CausalRecord> Read() => JsonLinesFile.Read(path, CausalHistoryJson.Parse);
}
