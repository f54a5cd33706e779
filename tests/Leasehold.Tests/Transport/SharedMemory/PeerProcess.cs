using System.Diagnostics;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Tests.Transport.SharedMemory;

/// <summary>A `leasehold shm-peer` child process on a region file of this test, started and released on a line of stdin.</summary>
internal sealed class PeerProcess : IDisposable
{
    private readonly Process _process;

    private PeerProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public static async Task<PeerProcess> StartAsync(ShmTestDirectory dir, string cluster, RegionKey key, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Leasehold.Cli.dll"));
        foreach (var a in (string[])["shm-peer", "--dir", dir.Path, "--cluster", cluster, "--node", $"{key.Node}", "--incarnation", $"{key.Incarnation}", .. args])
            start.ArgumentList.Add(a);
        start.Environment["NO_COLOR"] = "1";
        var peer = new PeerProcess(Process.Start(start)!);
        await peer.ExpectLineAsync("ready");
        return peer;
    }

    public void Go()
    {
        _process.StandardInput.WriteLine("go");
        _process.StandardInput.Flush();
    }

    public async Task ExpectLineAsync(string expected)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var line = await _process.StandardOutput.ReadLineAsync(guard.Token);
        if (line != expected) throw new InvalidOperationException($"the peer wrote '{line}' where '{expected}' was expected; stderr: {await _process.StandardError.ReadToEndAsync(guard.Token)}");
    }

    /// <summary>Everything the peer writes until it exits, and its exit code.</summary>
    public async Task<(int ExitCode, string[] Lines)> FinishAsync()
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var output = await _process.StandardOutput.ReadToEndAsync(guard.Token);
        await _process.WaitForExitAsync(guard.Token);
        return (_process.ExitCode, output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    public async Task KillAsync()
    {
        _process.Kill(); // SIGKILL: no finally block of the peer runs
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await _process.WaitForExitAsync(guard.Token);
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.Dispose();
    }
}
