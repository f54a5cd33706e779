using System.Diagnostics;
using System.Threading.Channels;

namespace Leasehold.Tests.Transport.Links;

/// <summary>A `leasehold link-peer` child process: its stdout lines as they come, its stdin for commands, and a kill.</summary>
internal sealed class LinkPeerProcess : IAsyncDisposable
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly List<string> _stderr = [];

    private LinkPeerProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line) _lines.Writer.TryWrite(line);
            else _lines.Writer.TryComplete();
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line) lock (_stderr) _stderr.Add(line);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Stderr
    {
        get { lock (_stderr) return string.Join("\n", _stderr); }
    }

    /// <param name="options">More options of `link-peer`, such as `--shm-dir DIR`.</param>
    public static LinkPeerProcess Start(string mapFile, string process, string keyFile, params string[] options)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Leasehold.Cli.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in (string[])[dll, "link-peer", "--map", mapFile, "--process", process, "--key-file", keyFile, .. options]) start.ArgumentList.Add(a);
        start.Environment["NO_COLOR"] = "1";
        return new LinkPeerProcess(Process.Start(start)!);
    }

    /// <summary>The next stdout line that <paramref name="matches"/>; fails with the child's stderr if it exits first.</summary>
    public async Task<string> LineAsync(Func<string, bool> matches)
    {
        using var guard = new CancellationTokenSource(HangGuard);
        try
        {
            await foreach (var line in _lines.Reader.ReadAllAsync(guard.Token))
                if (matches(line)) return line;
        }
        catch (OperationCanceledException) { }
        throw new Xunit.Sdk.XunitException($"the link peer never wrote the line awaited; its stderr:\n{Stderr}");
    }

    public async Task SendAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    public void Kill() => _process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try { _process.StandardInput.Close(); }
            catch (IOException) { }
            using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try { await _process.WaitForExitAsync(guard.Token); }
            catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); }
        }
        _process.Dispose();
    }
}
