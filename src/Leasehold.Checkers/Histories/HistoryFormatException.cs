namespace Leasehold.Checkers.Histories;

/// <summary>A history that cannot be checked: the message names the line and what is wrong with it.</summary>
public sealed class HistoryFormatException(long line, string message)
    : Exception(line > 0 ? $"line {line}: {message}" : message)
{
    public long Line { get; } = line;
}
