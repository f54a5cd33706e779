using Leasehold.Cli.Stores;
using Leasehold.Tests.Support;
using Npgsql;

namespace Leasehold.Tests.Storage;

/// <summary>
/// The processes of one cluster share the server's connection slots: `bench --processes N` gives each process's pools a
/// share of what the server has free, so four processes never ask for more logins than the server accepts.
/// </summary>
public class PostgresPoolBudgetTests
{
    [Fact]
    public async Task Each_process_gets_a_share_of_the_free_slots_that_all_of_them_fit_in()
    {
        await ExternalServer.RequirePostgresOrSkipAsync();
        int free = await FreeSlotsAsync();

        var shared = new NpgsqlConnectionStringBuilder(await PostgresPoolBudget.ShareAsync(ExternalServer.Postgres, processes: 4, CancellationToken.None));

        Assert.InRange(shared.MaxPoolSize, 2, 100);
        // Two pools per process (synced and unsynced writes), four processes: within the slots free when asked.
        Assert.True(shared.MaxPoolSize * 2 * 4 <= Math.Max(free, 16), $"{shared.MaxPoolSize} per pool × 8 pools exceeds the {free} free slots");
        Assert.Equal(new NpgsqlConnectionStringBuilder(ExternalServer.Postgres).Host, shared.Host); // the rest is the user's string
    }

    [Theory]
    [InlineData("Maximum Pool Size=7")]
    [InlineData("MaxPoolSize=7")]
    [InlineData("maximum pool size=7")] // keywords are case-insensitive ("Max Pool Size" is no Npgsql keyword: such a string is invalid)
    public async Task A_maximum_the_user_set_is_kept(string setting)
    {
        string mine = $"{ExternalServer.Postgres};{setting}";
        Assert.Equal(mine, await PostgresPoolBudget.ShareAsync(mine, processes: 4, CancellationToken.None));
    }

    [Fact]
    public async Task An_unreachable_server_leaves_the_string_for_the_store_to_name_the_problem()
    {
        const string nowhere = "Host=127.0.0.1;Port=1;Username=u;Password=p;Database=d;Timeout=1";
        Assert.Equal(nowhere, await PostgresPoolBudget.ShareAsync(nowhere, processes: 4, CancellationToken.None));
    }

    private static async Task<int> FreeSlotsAsync()
    {
        await using var conn = new NpgsqlConnection(ExternalServer.Postgres);
        await conn.OpenAsync();
        await using var count = new NpgsqlCommand(
            "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int - (SELECT count(*)::int FROM pg_stat_activity)", conn);
        return (int)(await count.ExecuteScalarAsync())!;
    }
}
