using System.Buffers;

namespace Leasehold.Checkers.Histories;

/// <summary>Parses one line (never blank) that came from line <paramref name="line"/> (1-based).</summary>
internal delegate T LineParser<T>(ReadOnlySpan<byte> json, long line);

/// <summary>
/// Reads a JSON-lines file one line at a time through a reused buffer, for both kinds of history. Blank
/// lines are skipped but counted, so errors name the real line.
/// </summary>
internal static class JsonLinesFile
{
    /// <summary>A line longer than this is refused rather than buffered without bound.</summary>
    public const int MaxLineBytes = 64 * 1024 * 1024;

    public static IEnumerable<T> Read<T>(string path, LineParser<T> parse)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new HistoryFormatException(0, $"cannot read '{path}': {e.Message}");
        }
        using (stream)
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
            try
            {
                int start = 0, end = 0;
                long line = 0;
                while (true)
                {
                    int newline = Array.IndexOf(buffer, (byte)'\n', start, end - start);
                    if (newline < 0)
                    {
                        // Move the partial line to the front, grow if it fills the buffer, and read more.
                        if (start > 0)
                        {
                            Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                            end -= start;
                            start = 0;
                        }
                        if (end == buffer.Length)
                        {
                            if (buffer.Length >= MaxLineBytes) throw new HistoryFormatException(line + 1, $"a line longer than {MaxLineBytes} bytes");
                            var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                            Buffer.BlockCopy(buffer, 0, bigger, 0, end);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = bigger;
                        }
                        int n = stream.Read(buffer, end, buffer.Length - end);
                        if (n == 0)
                        {
                            if (end > start && !IsBlank(buffer.AsSpan(start, end - start)))
                                yield return parse(buffer.AsSpan(start, end - start), ++line);
                            yield break;
                        }
                        end += n;
                        continue;
                    }
                    line++;
                    int from = start;
                    start = newline + 1;
                    if (IsBlank(buffer.AsSpan(from, newline - from))) continue;
                    yield return parse(buffer.AsSpan(from, newline - from), line);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static bool IsBlank(ReadOnlySpan<byte> text) => text.Trim(" \t\r"u8).IsEmpty;
}
