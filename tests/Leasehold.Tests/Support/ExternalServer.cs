using System.Diagnostics;
using System.Net.Sockets;
using Leasehold.Runtime.Storage;
using Leasehold.Storage.Postgres;
using Npgsql;

namespace Leasehold.Tests.Support;

/// <summary>
/// Tests against real servers (PostgreSQL, a Redis Cluster). In CI (CI=true) a missing server fails the
/// test with how to start it; on a developer's machine the test is skipped with the same message.
/// Whether a server is there is decided once per test run (<see cref="ServerProbe"/>), never per test, so
/// a busy moment cannot skip some of a server's tests and run the others.
/// </summary>
public static class ExternalServer
{
    public const string HowToStart = "start the test servers with `scripts/servers.sh install && scripts/servers.sh start` and `eval \"$(scripts/servers.sh env)\"`";

    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string Postgres => Environment.GetEnvironmentVariable("LEASEHOLD_POSTGRES")
        ?? "Host=127.0.0.1;Port=55432;Username=leasehold;Password=leasehold;Database=leasehold";

    public static string Redis => Environment.GetEnvironmentVariable("LEASEHOLD_REDIS") ?? "127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103";

    public static void RequireOrSkip(string? unavailable)
    {
        if (unavailable is null) return;
        string message = $"{unavailable}; {HowToStart}";
        if (InCi) throw new Xunit.Sdk.XunitException(message);
        Skip.If(true, message);
    }

    private static readonly ServerProbe PostgresProbe = new(
        () =>
        {
            var csb = new NpgsqlConnectionStringBuilder(Postgres);
            return [(csb.Host ?? "127.0.0.1", csb.Port)];
        },
        async () =>
        {
            // The probe's own connect timeout is generous (the store turns the default 15 into 5); the tests keep the store's fail-fast default.
            var csb = new NpgsqlConnectionStringBuilder(Postgres) { Timeout = 30 };
            try
            {
                await using var probe = await PostgresStateStore.OpenAsync(csb.ConnectionString, $"probe_{Environment.ProcessId}");
                await probe.DropAsync();
                return null;
            }
            catch (StoreUnavailableException e)
            {
                return $"PostgreSQL is not reachable ({e.Message})";
            }
        });

    /// <summary>Why PostgreSQL (LEASEHOLD_POSTGRES) cannot be used in this run, or null when it can.</summary>
    public static Task<string?> PostgresUnavailableAsync() => PostgresProbe.UnavailableAsync();

    /// <summary>Skips (or, under CI=true, fails) the calling test when PostgreSQL is not there.</summary>
    public static async Task RequirePostgresOrSkipAsync() => RequireOrSkip(await PostgresUnavailableAsync());
}

/// <summary>
/// Whether a server is usable, decided once per test run. Nothing listening on any of its ports is an
/// answer at once (a refused connection is not slowed down by load); a server that listens is given
/// <see cref="Deadline"/> to answer the real check, retried, so a loaded machine does not pass for a
/// missing server.
/// </summary>
public sealed class ServerProbe(Func<IReadOnlyList<(string Host, int Port)>> endpoints, Func<Task<string?>> check)
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private readonly Lazy<Task<string?>> _answer = new(() => Task.Run(() => DecideAsync(endpoints, check)));

    /// <summary>Why the server cannot be used, or null when it can.</summary>
    public Task<string?> UnavailableAsync() => _answer.Value;

    private static async Task<string?> DecideAsync(Func<IReadOnlyList<(string Host, int Port)>> endpoints, Func<Task<string?>> check)
    {
        IReadOnlyList<(string Host, int Port)> targets;
        try { targets = endpoints(); }
        catch (Exception e) when (e is ArgumentException or FormatException) { return $"the server's address is malformed: {e.Message}"; }
        if (!await AnyListensAsync(targets))
            return $"nothing listens at {string.Join(", ", targets.Select(t => $"{t.Host}:{t.Port}"))}";
        var clock = Stopwatch.StartNew();
        while (true)
        {
            string? unavailable = await check();
            if (unavailable is null || clock.Elapsed >= Deadline) return unavailable;
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
    }

    private static async Task<bool> AnyListensAsync(IEnumerable<(string Host, int Port)> targets)
    {
        foreach (var (host, port) in targets)
        {
            using var client = new TcpClient();
            using var limit = new CancellationTokenSource(Deadline);
            try
            {
                await client.ConnectAsync(host, port, limit.Token);
                return true;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException) { }
        }
        return false;
    }
}
