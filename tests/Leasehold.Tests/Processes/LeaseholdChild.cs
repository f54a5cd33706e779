using System.Diagnostics;

namespace Leasehold.Tests.Processes;

/// <summary>
/// One `leasehold` command (the built Leasehold.Cli.dll) running as a child process: its output as it comes
/// (stdout and stderr, interleaved as read), its exit, and a SIGKILL. Disposing kills it if it still runs.
/// </summary>
internal sealed class LeaseholdChild : IAsyncDisposable
{
    /// <summary>How long a child may take to exit before the test fails as hung (a guard, never the thing asserted).</summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(90);

    private readonly Process _process;
    private readonly List<string> _lines = [];

    private LeaseholdChild(string name, Process process)
    {
        Name = name;
        _process = process;
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }
    public bool HasExited => _process.HasExited;

    /// <summary>Everything it wrote so far.</summary>
    public string Output
    {
        get { lock (_lines) return string.Join("\n", _lines); }
    }

    public static LeaseholdChild Start(string name, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Leasehold.Cli.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["NO_COLOR"] = "1";
        return new LeaseholdChild(name, Process.Start(start) ?? throw new InvalidOperationException($"{name} did not start"));
    }

    /// <summary>Its exit code, once it and its output have ended; a child still running after the hang guard fails the test.</summary>
    public async Task<int> ExitAsync()
    {
        using var guard = new CancellationTokenSource(HangGuard);
        try { await _process.WaitForExitAsync(guard.Token); }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"{Name} still ran {HangGuard.TotalSeconds:0} s later; its output:\n{Output}");
        }
        return _process.ExitCode;
    }

    /// <summary>Its name, exit (or that it still runs) and output, for a failure message.</summary>
    public string Describe() => $"--- {Name}{(_process.HasExited ? $" (exit {_process.ExitCode})" : " (running)")}:\n{Output}";

    /// <summary>SIGKILL: no handler runs, nothing is flushed or closed by the child.</summary>
    public void Kill() => _process.Kill(entireProcessTree: false);

    private void Keep(string? line)
    {
        if (line is null) return;
        lock (_lines) _lines.Add(line);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                await _process.WaitForExitAsync(guard.Token);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException) { }
        _process.Dispose();
    }
}
