using System.Collections;
using System.Reflection;
using Leasehold.Runtime.Causal;

namespace Leasehold.Tests.Transport;

/// <summary>
/// Compares two object graphs by content: records compare arrays by reference, and <see cref="Args"/> not
/// at all, so a decoded message is never Equal to the one encoded. Walks public properties, arrays element
/// by element and Args entry by entry, and names the first path where they differ.
/// </summary>
internal static class StructuralEquality
{
    public static string? FirstDifference(object? expected, object? actual, string path = "message")
    {
        if (expected is null || actual is null)
            return expected is null && actual is null ? null : $"{path}: {Show(expected)} vs {Show(actual)}";
        var type = expected.GetType();
        if (type != actual.GetType()) return $"{path}: {type.Name} vs {actual.GetType().Name}";
        if (type.IsPrimitive || type.IsEnum || expected is string or decimal)
            return expected.Equals(actual) ? null : $"{path}: {Show(expected)} vs {Show(actual)}";
        if (expected is DateTimeOffset time)
        {
            var other = (DateTimeOffset)actual;
            return time.Ticks == other.Ticks && time.Offset == other.Offset ? null : $"{path}: {time:O} vs {other:O}";
        }
        if (expected is Args args) return ArgsDifference(args, (Args)actual, path);
        if (expected is VectorClock clock) return clock.Equals(actual) ? null : $"{path}: {clock} vs {actual}";
        // In enumeration order: the codec rebuilds them in the sender's order, so the receiver iterates them alike.
        if (expected is Dependencies deps) return Sequence([.. deps.Cast<object>()], [.. ((Dependencies)actual).Cast<object>()], path);
        if (expected is Array array)
        {
            var other = (Array)actual;
            if (array.Length != other.Length) return $"{path}.Length: {array.Length} vs {other.Length}";
            for (int i = 0; i < array.Length; i++)
                if (FirstDifference(array.GetValue(i), other.GetValue(i), $"{path}[{i}]") is { } d) return d;
            return null;
        }
        if (expected is IEnumerable) throw new NotSupportedException($"{path}: compare {type.Name} explicitly");
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0) continue;
            if (FirstDifference(property.GetValue(expected), property.GetValue(actual), $"{path}.{property.Name}") is { } d) return d;
        }
        return null;
    }

    private static string? Sequence(object?[] expected, object?[] actual, string path)
    {
        if (expected.Length != actual.Length) return $"{path}.Count: {expected.Length} vs {actual.Length}";
        for (int i = 0; i < expected.Length; i++)
            if (FirstDifference(expected[i], actual[i], $"{path}[{i}]") is { } d) return d;
        return null;
    }

    private static string? ArgsDifference(Args expected, Args actual, string path)
    {
        if (expected.Count != actual.Count) return $"{path}.Count: {expected.Count} vs {actual.Count}";
        for (int i = 0; i < expected.Count; i++)
        {
            if (expected.NameAt(i) != actual.NameAt(i)) return $"{path} name {i}: {expected.NameAt(i)} vs {actual.NameAt(i)}";
            if (FirstDifference(expected.ValueAt(i), actual.ValueAt(i), $"{path}.{expected.NameAt(i)}") is { } d) return d;
        }
        return null;
    }

    private static string Show(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        _ => value.ToString() ?? "?",
    };
}
