using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Leasehold.Tests.Storage;

/// <summary>
/// A private redis-server on a free loopback port, for configurations the shared cluster must not be put
/// in (standalone mode, appendfsync everysec, appendonly no). Killed and its directory removed at dispose.
/// </summary>
internal sealed class RedisServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private RedisServerProcess(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>The redis-server on PATH, or null.</summary>
    public static string? Binary => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
        .Select(d => Path.Combine(d, "redis-server")).FirstOrDefault(File.Exists);

    /// <summary>Why these tests cannot run here (no redis-server), or null; see ExternalServer.RequireOrSkip.</summary>
    public static string? Unavailable => Binary is null ? "redis-server is not installed; `scripts/servers.sh install` installs it" : null;

    public static async Task<RedisServerProcess> StartAsync(params string[] settings)
    {
        string binary = Binary ?? throw new InvalidOperationException("redis-server is not installed; `scripts/servers.sh install` installs it");
        string dir = Directory.CreateTempSubdirectory("leasehold-redis-").FullName;
        int port = FreePortPair();
        var info = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--port", port.ToString(), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--daemonize", "no", "--protected-mode", "no" }.Concat(settings))
            info.ArgumentList.Add(arg);
        var process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServerProcess(process, dir, port);
        // A liveness bound, generous for a loaded machine: the server normally answers within milliseconds.
        var started = Stopwatch.StartNew();
        while (started.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited && await server.CommandAsync("PING") != "+PONG") await Task.Delay(50);
        if (process.HasExited || await server.CommandAsync("PING") != "+PONG")
        {
            await server.DisposeAsync();
            throw new InvalidOperationException($"redis-server on port {port} did not answer PING");
        }
        return server;
    }

    /// <summary>Sends one inline command and returns the first line of the reply (null when nothing answers).</summary>
    public async Task<string?> CommandAsync(string command) => (await ReplyAsync(command))?.Split("\r\n")[0];

    /// <summary>Sends one inline command and returns what arrives first of the reply (enough for short ones).</summary>
    private async Task<string?> ReplyAsync(string command)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"));
            var buffer = new byte[4096];
            int n = await stream.ReadAsync(buffer);
            return Encoding.ASCII.GetString(buffer, 0, n);
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>Makes a cluster-enabled server a one-node cluster owning every slot, and waits until it serves.</summary>
    public async Task FormSingleNodeClusterAsync()
    {
        var reply = await CommandAsync("CLUSTER ADDSLOTSRANGE 0 16383");
        if (reply != "+OK") throw new InvalidOperationException($"CLUSTER ADDSLOTSRANGE answered {reply}");
        var started = Stopwatch.StartNew();
        while (started.Elapsed < TimeSpan.FromSeconds(60)) // a liveness bound, generous for a loaded machine
        {
            if ((await ReplyAsync("CLUSTER INFO"))?.Contains("cluster_state:ok") == true) return;
            await Task.Delay(50);
        }
        throw new InvalidOperationException("the one-node cluster did not reach cluster_state:ok");
    }

    /// <summary>A port p with p + 10000 (the cluster bus) free too.</summary>
    private static int FreePortPair()
    {
        var random = new Random(Environment.ProcessId ^ Environment.TickCount);
        for (int attempt = 0; attempt < 100; attempt++)
        {
            int port = random.Next(20000, 30000);
            if (Free(port) && Free(port + 10000)) return port;
        }
        throw new InvalidOperationException("no free loopback port pair for a private redis-server");

        static bool Free(int port)
        {
            try
            {
                var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
