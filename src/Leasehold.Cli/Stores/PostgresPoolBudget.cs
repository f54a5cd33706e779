using Npgsql;

namespace Leasehold.Cli.Stores;

/// <summary>
/// Shares a PostgreSQL server's connection slots between the processes of one cluster. Npgsql's pools default to
/// 100 connections each, and every process has two (synced and unsynced writes), so a driver and three workers could
/// ask for far more than a server's usual 100: the server then refuses logins mid-run ("remaining connection slots
/// are reserved"). A connection string that sets Maximum Pool Size is kept as the user wrote it.
/// </summary>
internal static class PostgresPoolBudget
{
    /// <summary>Pools per process: synced and unsynced writes (<see cref="Leasehold.Storage.Postgres.PostgresStateStore"/>).</summary>
    private const int PoolsPerProcess = 2;

    /// <summary>
    /// <paramref name="connectionString"/> with Maximum Pool Size set so that <paramref name="processes"/> processes fit in
    /// three quarters of the slots the server has free now (the rest is left to other clients), at least 2 per pool.
    /// </summary>
    public static async Task<string> ShareAsync(string connectionString, int processes, CancellationToken cancellation)
    {
        NpgsqlConnectionStringBuilder csb;
        try { csb = new NpgsqlConnectionStringBuilder(connectionString); }
        catch (ArgumentException) { return connectionString; } // opening the store names what is wrong with it
        if (SetsMaximum(connectionString)) return connectionString;
        int free;
        // At most 5 s to ask: Timeout=0 means "wait for ever" to ADO.NET, which must not become a bench that never starts.
        var probe = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = csb.Timeout is > 0 and < 5 ? csb.Timeout : 5 };
        try
        {
            await using var conn = new NpgsqlConnection(probe.ConnectionString);
            await conn.OpenAsync(cancellation);
            await using var count = new NpgsqlCommand(
                "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int - (SELECT count(*)::int FROM pg_stat_activity)", conn);
            free = (int)(await count.ExecuteScalarAsync(cancellation))!;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return connectionString; // opening the store names what is wrong with the server, in its own words
        }
        csb.MaxPoolSize = Math.Clamp(free * 3 / 4 / (processes * PoolsPerProcess), 2, 100);
        if (csb.MinPoolSize > csb.MaxPoolSize) csb.MinPoolSize = csb.MaxPoolSize;
        return csb.ConnectionString;
    }

    /// <summary>Whether the user named a maximum (under any of Npgsql's spellings of it).</summary>
    private static bool SetsMaximum(string connectionString)
    {
        var generic = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        return generic.Keys.Cast<string>().Any(k => k.Replace(" ", "", StringComparison.Ordinal).Equals("MaximumPoolSize", StringComparison.OrdinalIgnoreCase)
            || k.Replace(" ", "", StringComparison.Ordinal).Equals("MaxPoolSize", StringComparison.OrdinalIgnoreCase));
    }
}
