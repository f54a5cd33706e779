namespace Leasehold.Storage.Postgres;

/// <summary>
/// The tables of one Leasehold store, all in one PostgreSQL schema (so several stores share a database).
/// Table and key are bytea (UTF-8): PostgreSQL text cannot hold NUL, and any key text is valid here.
/// A null value is a delete; an empty bytea is an empty value.
/// </summary>
internal static class PostgresSchema
{
    public const string Format = "leasehold-store/1";

    /// <summary>A schema name is spliced into SQL, so it is held to a plain identifier.</summary>
    public static bool IsValidName(string schema) =>
        schema.Length is > 0 and <= 63 && (char.IsAsciiLetterLower(schema[0]) || schema[0] == '_') &&
        schema.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_');

    public static string Create(string s) => $"""
        CREATE SCHEMA IF NOT EXISTS {s};
        CREATE TABLE IF NOT EXISTS {s}.meta (name text PRIMARY KEY, value text NOT NULL);
        CREATE TABLE IF NOT EXISTS {s}.commit_record (id int PRIMARY KEY CHECK (id = 1), last bigint NOT NULL);
        INSERT INTO {s}.commit_record VALUES (1, 0) ON CONFLICT DO NOTHING;
        CREATE TABLE IF NOT EXISTS {s}.versions (tbl bytea NOT NULL, key bytea NOT NULL, batch bigint NOT NULL, value bytea,
            PRIMARY KEY (tbl, key, batch));
        -- The write index: recovery finds an uncommitted batch's versions through it, not by scanning.
        CREATE INDEX IF NOT EXISTS versions_by_batch ON {s}.versions (batch);
        CREATE TABLE IF NOT EXISTS {s}.batch_log (batch bigint PRIMARY KEY, input bytea NOT NULL);
        CREATE TABLE IF NOT EXISTS {s}.records (name text PRIMARY KEY, value bytea NOT NULL);
        INSERT INTO {s}.meta VALUES ('format', '{Format}') ON CONFLICT DO NOTHING;
        """;
}
