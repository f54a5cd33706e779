using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Leasehold.Cli.Crash;

/// <summary>One run of the crash test's node as a child process: its request pipe, its acknowledgements, and SIGKILL.</summary>
internal sealed class CrashNode : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<long> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StringBuilder _stderr = new();
    private readonly Task _reading;
    private readonly Action<long, string, string?> _onAck;

    private CrashNode(Process process, Action<long, string, string?> onAck)
    {
        _process = process;
        _onAck = onAck;
        _reading = Task.Run(ReadAcksAsync);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data);
        };
        process.BeginErrorReadLine();
    }

    /// <summary>Starts the node and waits until it has recovered; returns it with the number of batches its recovery re-executed.</summary>
    public static async Task<(CrashNode Node, long Reexecuted)> StartAsync(string path, int workers, bool withoutIdempotency, Action<long, string, string?> onAck, CancellationToken cancellation)
    {
        var start = new ProcessStartInfo { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string self = Environment.ProcessPath ?? throw new CrashTestException("cannot find this program's path to start the node");
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.FileName = self;
            start.ArgumentList.Add(typeof(CrashNode).Assembly.Location);
        }
        else start.FileName = self;
        foreach (var a in new[] { CrashNodeCommand.Name, "--store", $"rocksdb:{path}", "--workers", workers.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        if (withoutIdempotency) start.ArgumentList.Add(CrashNodeCommand.WithoutIdempotencyFlag);
        var process = Process.Start(start) ?? throw new CrashTestException("the node did not start");
        var node = new CrashNode(process, onAck);
        var ready = node._ready.Task;
        if (await Task.WhenAny(ready, process.WaitForExitAsync(cancellation), Task.Delay(TimeSpan.FromSeconds(60), cancellation)) != ready)
        {
            await node.KillAsync();
            throw new CrashTestException($"the node did not report ready within 60 s (exit {(process.HasExited ? process.ExitCode : -1)}): {node.Stderr.Trim()}");
        }
        return (node, await ready);
    }

    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    public bool HasExited => _process.HasExited;

    public async Task SendAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>SIGKILL: no chance to flush, close or finish a batch.</summary>
    public async Task KillAsync()
    {
        try { _process.Kill(entireProcessTree: false); }
        catch (InvalidOperationException) { } // already gone
        await _process.WaitForExitAsync();
        await _reading;
    }

    /// <summary>Ends the request stream; the node drains what it has and exits.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        _process.StandardInput.Close();
        using var cancel = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cancel.Token); }
        catch (OperationCanceledException)
        {
            await KillAsync();
            throw new CrashTestException($"the node did not stop within {timeout.TotalSeconds:F0} s of its input ending");
        }
        await _reading;
        return _process.ExitCode;
    }

    private async Task ReadAcksAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            var parts = line.Split(' ', 4);
            if (parts is ["ready", var n] && long.TryParse(n, CultureInfo.InvariantCulture, out long reexecuted)) _ready.TrySetResult(reexecuted);
            else if (parts.Length >= 3 && parts[0] == "ack" && long.TryParse(parts[1], CultureInfo.InvariantCulture, out long id))
                _onAck(id, parts[2], parts.Length > 3 ? parts[3] : null);
            else lock (_stderr) _stderr.AppendLine($"unexpected line from the node: {line}");
        }
        _ready.TrySetException(new CrashTestException("the node's output ended before it was ready"));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) await KillAsync();
        _process.Dispose();
    }
}
