using System.Text.Json;

namespace Leasehold.Checkers.Causal;

/// <summary>
/// Writes function executions as JSON lines as they complete (from any thread: one lock per line), for
/// the causal checker. Functions complete concurrently, so the file's order means nothing; the checker
/// orders them by process, seq and parents.
/// </summary>
public sealed class CausalHistoryRecorder : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Stream _output;
    private readonly Utf8JsonWriter _writer;
    private long _count;

    /// <param name="output">where the lines go; owned, disposed with the recorder</param>
    public CausalHistoryRecorder(Stream output)
    {
        _output = output;
        _writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
    }

    public long Count
    {
        get { lock (_lock) return _count; }
    }

    public void Record(CausalRecord record)
    {
        lock (_lock)
        {
            CausalHistoryJson.Write(_writer, record);
            _writer.Flush();
            _writer.Reset();
            _output.WriteByte((byte)'\n');
            _count++;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _writer.Dispose();
            _output.Dispose();
        }
    }
}
