namespace Leasehold.Tests.Support;

/// <summary>
/// Tests against real servers (PostgreSQL, a Redis Cluster). In CI (CI=true) a missing server fails the
/// test with how to start it; on a developer's machine the test is skipped with the same message.
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
}
