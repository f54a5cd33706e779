using System.Text.Json;

namespace Leasehold.Checkers.Histories;

/// <summary>Which checker a history file was written for, judged by the fields of its first record.</summary>
public enum HistoryKind { Unknown, ListAppend, Causal }

/// <summary>
/// Tells a list-append history (Jepsen's operations: "index", "value") from a causal one (function executions:
/// "workflow", "parents"), so a history given to the wrong checker is named as such instead of failing on a field.
/// </summary>
public static class HistoryShape
{
    /// <summary>The kind of the first non-blank line's record; <see cref="HistoryKind.Unknown"/> when it is neither, or unreadable.</summary>
    public static HistoryKind Detect(string path)
    {
        try
        {
            foreach (var kind in JsonLinesFile.Read(path, (json, _) => KindOf(json))) return kind;
        }
        catch (HistoryFormatException) { } // unreadable or an overlong line: no opinion
        return HistoryKind.Unknown;
    }

    private static HistoryKind KindOf(ReadOnlySpan<byte> json)
    {
        bool index = false, value = false, workflow = false, parents = false;
        var r = new Utf8JsonReader(json);
        try
        {
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return HistoryKind.Unknown;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                if (r.ValueTextEquals("index"u8)) index = true;
                else if (r.ValueTextEquals("value"u8)) value = true;
                else if (r.ValueTextEquals("workflow"u8)) workflow = true;
                else if (r.ValueTextEquals("parents"u8)) parents = true;
                r.Read();
                r.Skip();
            }
        }
        catch (JsonException) { } // a truncated record still shows its leading fields
        return workflow && parents ? HistoryKind.Causal
            : index && value ? HistoryKind.ListAppend
            : HistoryKind.Unknown;
    }
}
