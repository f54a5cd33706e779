using System.Text.Json;
using System.Text.RegularExpressions;

namespace Leasehold.Checkers.Histories;

/// <summary>
/// The error for a history line that is not JSON: the line's real number (the reader's own "LineNumber: 0"
/// counts within the one line it was given, so it is dropped), the column, and what a line should hold.
/// </summary>
internal static partial class JsonLineError
{
    public const string ListAppendExample = """{"index":0,"process":0,"type":"invoke","f":"txn","value":[["append",1,1]]}""";
    public const string CausalExample = """{"process":0,"seq":0,"workflow":0,"function":0,"parents":[],"type":"ok","ops":[{"f":"w","k":"k1","v":1}]}""";

    public static HistoryFormatException NotJson(long line, ReadOnlySpan<byte> text, Exception e, string example)
    {
        string expected = $"a history holds one JSON object a line, like {example}";
        if (text.Contains((byte)0) || !System.Text.Unicode.Utf8.IsValid(text))
            return new HistoryFormatException(line, $"binary data, not text: {expected}");
        string reason = ReaderPosition().Replace(e.Message, "").Trim().TrimEnd('.');
        string column = e is JsonException { BytePositionInLine: { } at } ? $" at column {at + 1}" : "";
        return new HistoryFormatException(line, $"not valid JSON{column} ({reason}): {expected}");
    }

    public static HistoryFormatException NotAnObject(long line, string example) =>
        new(line, $"expected a JSON object: a history holds one a line, like {example}");

    [GeneratedRegex(@"\s*LineNumber: \d+ \| BytePositionInLine: \d+\.?")]
    private static partial Regex ReaderPosition();
}
