using System.Runtime.CompilerServices;
using System.Text;
using Leasehold.Runtime.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Leasehold.Storage.Postgres;

/// <summary>
/// The PostgreSQL engine. A worker's versions for a batch are one statement (one round trip) on
/// connections with <c>synchronous_commit = off</c>; the driver's batch log and commit records are
/// one transaction with it on. WAL is sequential, so flushing the commit record's WAL flushes every version
/// written before it: one synchronous flush per group commit (<see cref="WriteLogAsync"/>). The commit record
/// is a conditional update (only last + 1 may commit), and a version write takes a share lock on it, so no
/// version can land in a batch once it has committed.
/// </summary>
public sealed class PostgresStateStore : IStateStore
{
    private readonly NpgsqlDataSource _data;
    private readonly NpgsqlDataSource _unsynced;
    private readonly string _s;

    private PostgresStateStore(NpgsqlDataSource data, NpgsqlDataSource unsynced, string schema)
    {
        _data = data;
        _unsynced = unsynced;
        _s = schema;
    }

    public string Name => "postgres";

    /// <summary>
    /// Connects, creates the schema's tables if they are missing, and checks the store's format. Every
    /// failure (a malformed connection string, an unreachable server, a refused login, a missing database,
    /// a schema that holds something else) is a <see cref="StoreUnavailableException"/> naming the cause.
    /// </summary>
    public static async Task<PostgresStateStore> OpenAsync(string connectionString, string schema = "leasehold", CancellationToken cancellation = default)
    {
        if (!PostgresSchema.IsValidName(schema)) throw new StoreUnavailableException($"postgres: schema '{schema}' must be a plain lower-case identifier");
        NpgsqlDataSourceBuilder builder;
        try
        {
            builder = new NpgsqlDataSourceBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new StoreUnavailableException($"postgres: not a valid connection string: {e.Message}", e);
        }
        var csb = builder.ConnectionStringBuilder;
        if (csb.Timeout == 15) csb.Timeout = 5;        // fail fast on an unreachable server unless told otherwise
        if (csb.MaxAutoPrepare == 0) csb.MaxAutoPrepare = 32;
        string where = $"{csb.Host}:{csb.Port}/{csb.Database}";
        var data = builder.Build();
        try
        {
            await using var conn = await data.OpenConnectionAsync(cancellation);
            await CheckForeignAsync(conn, schema, where, cancellation);
            await using (var create = new NpgsqlCommand(PostgresSchema.Create(schema), conn)) await create.ExecuteNonQueryAsync(cancellation);
            await using var format = new NpgsqlCommand($"SELECT value FROM {schema}.meta WHERE name = 'format'", conn);
            var found = (string?)await format.ExecuteScalarAsync(cancellation);
            if (found != PostgresSchema.Format)
                throw new StoreUnavailableException($"postgres: schema '{schema}' at {where} holds a store of format '{found}'; this build reads '{PostgresSchema.Format}'");
            var unsynced = new NpgsqlDataSourceBuilder(csb.ConnectionString) { ConnectionStringBuilder = { Options = $"{csb.Options} -c synchronous_commit=off".Trim() } }.Build();
            return new PostgresStateStore(data, unsynced, schema);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            await data.DisposeAsync();
            string why = e is PostgresException pg ? pg.SqlState switch
            {
                "28P01" or "28000" => "the login was refused (user or password)",
                "3D000" => "the database does not exist",
                "42501" => "the user may not create the store's schema or tables",
                _ => pg.MessageText,
            } : e.InnerException?.Message ?? e.Message;
            throw new StoreUnavailableException($"postgres: cannot use {where}: {why}", e);
        }
        catch
        {
            await data.DisposeAsync();
            throw;
        }
    }

    /// <summary>A schema that exists, holds tables and has no format marker belongs to somebody else.</summary>
    private static async Task CheckForeignAsync(NpgsqlConnection conn, string schema, string where, CancellationToken cancellation)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT count(*) FILTER (WHERE table_name NOT IN ('meta','commit_record','versions','batch_log','records')),
                   count(*) FILTER (WHERE table_name = 'meta')
            FROM information_schema.tables WHERE table_schema = $1
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = schema });
        await using var r = await cmd.ExecuteReaderAsync(cancellation);
        await r.ReadAsync(cancellation);
        if (r.GetInt64(0) > 0)
            throw new StoreUnavailableException($"postgres: schema '{schema}' at {where} holds other tables; it is not a Leasehold store, so nothing was written to it");
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private NpgsqlCommand Command(NpgsqlConnection conn, string sql, params object?[] args)
    {
        var cmd = new NpgsqlCommand(sql.Replace("{s}", _s, StringComparison.Ordinal), conn);
        foreach (var a in args) cmd.Parameters.Add(a as NpgsqlParameter ?? new NpgsqlParameter { Value = a ?? DBNull.Value });
        return cmd;
    }

    public async ValueTask LoadAsync(IEnumerable<KeyValuePair<StateKey, byte[]>> objects, CancellationToken cancellation = default)
    {
        await using var conn = await _data.OpenConnectionAsync(cancellation);
        await using var tx = await conn.BeginTransactionAsync(cancellation);
        await using (var check = Command(conn, "SELECT last FROM {s}.commit_record WHERE id = 1 FOR UPDATE"))
        {
            long last = (long)(await check.ExecuteScalarAsync(cancellation))!;
            if (last > 0) throw new StoreConflictException($"postgres: the store has committed batches up to {last}; initial state loads only into a fresh store");
        }
        await using (var copy = await conn.BeginBinaryImportAsync($"COPY {_s}.versions (tbl, key, batch, value) FROM STDIN (FORMAT BINARY)", cancellation))
        {
            foreach (var (key, value) in objects)
            {
                await copy.StartRowAsync(cancellation);
                await copy.WriteAsync(Utf8(key.Table), NpgsqlDbType.Bytea, cancellation);
                await copy.WriteAsync(Utf8(key.Key), NpgsqlDbType.Bytea, cancellation);
                await copy.WriteAsync(0L, NpgsqlDbType.Bigint, cancellation);
                await copy.WriteAsync(value, NpgsqlDbType.Bytea, cancellation);
            }
            await copy.CompleteAsync(cancellation);
        }
        await tx.CommitAsync(cancellation);
        await using var analyze = Command(conn, "ANALYZE {s}.versions"); // the planner's row counts after a bulk load
        await analyze.ExecuteNonQueryAsync(cancellation);
    }

    public async ValueTask WriteVersionsAsync(long batch, IReadOnlyList<KeyValuePair<StateKey, byte[]?>> writes, CancellationToken cancellation = default)
    {
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batches are numbered from 1");
        var tables = new byte[writes.Count][];
        var keys = new byte[writes.Count][];
        var values = new byte[]?[writes.Count];
        for (int i = 0; i < writes.Count; i++)
        {
            tables[i] = Utf8(writes[i].Key.Table);
            keys[i] = Utf8(writes[i].Key.Key);
            values[i] = writes[i].Value;
        }
        // One statement, one round trip: the share lock on the commit record and the check that the batch is
        // not committed yet, then the versions. Durable with the commit record's flush (see the class comment).
        await using var conn = await _unsynced.OpenConnectionAsync(cancellation);
        await using var insert = Command(conn, """
            WITH c AS (SELECT last FROM {s}.commit_record WHERE id = 1 FOR SHARE)
            INSERT INTO {s}.versions (tbl, key, batch, value)
            SELECT t, k, $4, v FROM unnest($1::bytea[], $2::bytea[], $3::bytea[]) AS w(t, k, v), c WHERE c.last < $4
            ON CONFLICT (tbl, key, batch) DO UPDATE SET value = excluded.value
            """,
            new NpgsqlParameter { Value = tables, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea },
            new NpgsqlParameter { Value = keys, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea },
            new NpgsqlParameter { Value = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea },
            batch);
        int written = await insert.ExecuteNonQueryAsync(cancellation);
        if (written != writes.Count || (writes.Count == 0 && batch <= await LastCommittedAsync(cancellation)))
            throw new StoreConflictException($"postgres: batch {batch} is already committed; its versions cannot change");
    }

    public ValueTask CommitAsync(long batch, CancellationToken cancellation = default) => CommitAsync(batch, 0, cancellation);

    public async ValueTask<long> ClaimAsync(CancellationToken cancellation = default)
    {
        await using var conn = await _data.OpenConnectionAsync(cancellation);
        await using var cmd = Command(conn, """
            INSERT INTO {s}.meta VALUES ('epoch', '1') ON CONFLICT (name) DO UPDATE SET value = (meta.value::bigint + 1)::text
            RETURNING value::bigint
            """);
        return (long)(await cmd.ExecuteScalarAsync(cancellation))!;
    }

    /// <summary>
    /// True while <paramref name="epoch"/> is the latest claim. In a statement of its own transaction it
    /// takes a share lock on the epoch row, so a new claim waits for the commit or the commit sees the claim.
    /// </summary>
    private string EpochHolds(string parameter) =>
        $"({parameter} = 0 OR EXISTS (SELECT 1 FROM {_s}.meta WHERE name = 'epoch' AND value = {parameter}::text FOR SHARE))";

    private async Task ThrowIfFencedAsync(long epoch, CancellationToken cancellation)
    {
        if (epoch == 0) return;
        await using var conn = await _data.OpenConnectionAsync(cancellation);
        await using var cmd = Command(conn, "SELECT value::bigint FROM {s}.meta WHERE name = 'epoch'");
        long current = await cmd.ExecuteScalarAsync(cancellation) is long l ? l : 0;
        if (current != epoch) throw new StoreFencedException($"postgres: the store was claimed by epoch {current}; this owner holds epoch {epoch}");
    }

    public ValueTask CommitAsync(long batch, long epoch, CancellationToken cancellation = default) => WriteLogAsync([], batch, batch, epoch, cancellation);

    /// <summary>
    /// One transaction, so one WAL flush at its COMMIT, and all of it or nothing: the inputs, then the commit
    /// record of the range (only from last + 1), the range's logged inputs and the versions it supersedes
    /// dropped. Refused (rolled back) when the epoch is stale or the range is out of order.
    /// </summary>
    public async ValueTask WriteLogAsync(IReadOnlyList<KeyValuePair<long, ReadOnlyMemory<byte>>> inputs, long commitFrom, long commitThrough, long epoch, CancellationToken cancellation = default)
    {
        bool commits = commitThrough >= commitFrom;
        if (inputs.Count == 0 && !commits) return;
        await using var conn = await _data.OpenConnectionAsync(cancellation);
        await using var tx = await conn.BeginTransactionAsync(cancellation);
        await using var write = new NpgsqlBatch(conn, tx);
        NpgsqlBatchCommand? log = null, commit = null;
        if (inputs.Count > 0)
        {
            log = new NpgsqlBatchCommand($"""
                INSERT INTO {_s}.batch_log SELECT b, i FROM unnest($1::bigint[], $2::bytea[]) AS l(b, i) WHERE {EpochHolds("$3")}
                ON CONFLICT (batch) DO UPDATE SET input = excluded.input
                """)
            {
                Parameters =
                {
                    new() { Value = inputs.Select(e => e.Key).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint },
                    new() { Value = inputs.Select(e => e.Value.ToArray()).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea },
                    new() { Value = epoch },
                },
            };
            write.BatchCommands.Add(log);
        }
        if (commits)
        {
            commit = new NpgsqlBatchCommand($"UPDATE {_s}.commit_record SET last = $2 WHERE id = 1 AND last = $1 - 1 AND {EpochHolds("$3")}")
            {
                Parameters = { new() { Value = commitFrom }, new() { Value = commitThrough }, new() { Value = epoch } },
            };
            write.BatchCommands.Add(commit);
            // Recovery re-executes only uncommitted batches: the inputs go with the commit.
            write.BatchCommands.Add(new NpgsqlBatchCommand($"DELETE FROM {_s}.batch_log WHERE batch BETWEEN $1 AND $2")
            {
                Parameters = { new() { Value = commitFrom }, new() { Value = commitThrough } },
            });
            // LATERAL forces one primary-key probe per object the range wrote; a join let the planner
            // hash-scan every version of every object (10 ms a commit at 100,000 accounts).
            write.BatchCommands.Add(new NpgsqlBatchCommand($"""
                DELETE FROM {_s}.versions WHERE ctid = ANY (ARRAY(
                    SELECT p.ctid FROM {_s}.versions n CROSS JOIN LATERAL (
                        SELECT ctid FROM {_s}.versions p WHERE p.tbl = n.tbl AND p.key = n.key AND p.batch < n.batch) p
                    WHERE n.batch BETWEEN $1 AND $2))
                """)
            {
                Parameters = { new() { Value = commitFrom }, new() { Value = commitThrough } },
            });
        }
        await write.ExecuteNonQueryAsync(cancellation);
        bool logged = log is null || log.RecordsAffected == inputs.Count;
        bool committed = commit is null || commit.RecordsAffected == 1;
        if (logged && committed)
        {
            await tx.CommitAsync(cancellation);
            return;
        }
        await tx.RollbackAsync(cancellation);
        await ThrowIfFencedAsync(epoch, cancellation);
        if (!committed)
        {
            long last = await LastCommittedAsync(cancellation);
            throw new StoreConflictException($"postgres: commit records go in batch order: expected {last + 1}, got {commitFrom}");
        }
        throw new StoreConflictException($"postgres: the batch log took {log!.RecordsAffected} of {inputs.Count} inputs (two inputs of one batch?)");
    }

    public async ValueTask<byte[]?> ReadCommittedAsync(StateKey key, CancellationToken cancellation = default)
    {
        await using var conn = await _data.OpenConnectionAsync(cancellation);
        await using var cmd = Command(conn, """
            SELECT value FROM {s}.versions
            WHERE tbl = $1 AND key = $2 AND batch <= (SELECT last FROM {s}.commit_record WHERE id = 1)
            ORDER BY batch DESC LIMIT 1
            """, Utf8(key.Table), Utf8(key.Key));
        var value = await cmd.ExecuteScalarAsync(cancellation);
        return value is byte[] bytes ? bytes : null;
    }

    public async ValueTask<long> LastCommittedAsync(CancellationToken cancellation = default)
    {
        await using var conn = await _data.OpenConnectionAsync(cancellation);
        await using var cmd = Command(conn, "SELECT last FROM {s}.commit_record WHERE id = 1");
        return (long)(await cmd.ExecuteScalarAsync(cancellation))!;
    }

    public async IAsyncEnumerable<KeyValuePair<string, byte[]>> ScanCommittedAsync(string table, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        var rows = new List<KeyValuePair<string, byte[]>>();
        await using (var conn = await _data.OpenConnectionAsync(cancellation))
        await using (var cmd = Command(conn, """
            SELECT DISTINCT ON (key) key, value FROM {s}.versions
            WHERE tbl = $1 AND batch <= (SELECT last FROM {s}.commit_record WHERE id = 1)
            ORDER BY key, batch DESC
            """, Utf8(table)))
        await using (var r = await cmd.ExecuteReaderAsync(cancellation))
            while (await r.ReadAsync(cancellation))
                if (!r.IsDBNull(1)) rows.Add(new(Encoding.UTF8.GetString(r.GetFieldValue<byte[]>(0)), r.GetFieldValue<byte[]>(1)));
        rows.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var row in rows) yield return row;
    }

    public ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, CancellationToken cancellation = default) =>
        AppendBatchInputAsync(batch, input, 0, cancellation);

    public ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, long epoch, CancellationToken cancellation = default) =>
        WriteLogAsync([new(batch, input)], 1, 0, epoch, cancellation);

    public async IAsyncEnumerable<KeyValuePair<long, byte[]>> ReadBatchInputsAsync(long after, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        await using var conn = await _data.OpenConnectionAsync(cancellation);
        await using var cmd = Command(conn, "SELECT batch, input FROM {s}.batch_log WHERE batch > $1 ORDER BY batch", after);
        await using var r = await cmd.ExecuteReaderAsync(cancellation);
        while (await r.ReadAsync(cancellation)) yield return new(r.GetInt64(0), r.GetFieldValue<byte[]>(1));
    }

    public async ValueTask<long> DiscardUncommittedAsync(CancellationToken cancellation = default)
    {
        await using var conn = await _data.OpenConnectionAsync(cancellation);
        await using var cmd = Command(conn, "DELETE FROM {s}.versions WHERE batch > (SELECT last FROM {s}.commit_record WHERE id = 1)");
        return await cmd.ExecuteNonQueryAsync(cancellation);
    }

    public async ValueTask<bool> CompareAndSetAsync(string name, byte[]? expected, byte[] value, CancellationToken cancellation = default)
    {
        await using var conn = await _data.OpenConnectionAsync(cancellation);
        await using var cmd = expected is null
            ? Command(conn, "INSERT INTO {s}.records VALUES ($1, $2) ON CONFLICT DO NOTHING", name, value)
            : Command(conn, "UPDATE {s}.records SET value = $3 WHERE name = $1 AND value = $2", name, expected, value);
        return await cmd.ExecuteNonQueryAsync(cancellation) == 1;
    }

    public async ValueTask<byte[]?> ReadRecordAsync(string name, CancellationToken cancellation = default)
    {
        await using var conn = await _data.OpenConnectionAsync(cancellation);
        await using var cmd = Command(conn, "SELECT value FROM {s}.records WHERE name = $1", name);
        return await cmd.ExecuteScalarAsync(cancellation) as byte[];
    }

    /// <summary>Drops the schema and everything in it (tests and temporary bench stores).</summary>
    public async Task DropAsync(CancellationToken cancellation = default)
    {
        await using var conn = await _data.OpenConnectionAsync(cancellation);
        await using var cmd = Command(conn, "DROP SCHEMA IF EXISTS {s} CASCADE");
        await cmd.ExecuteNonQueryAsync(cancellation);
    }

    public async ValueTask DisposeAsync()
    {
        await _unsynced.DisposeAsync();
        await _data.DisposeAsync();
    }
}
