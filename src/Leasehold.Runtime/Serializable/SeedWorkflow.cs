namespace Leasehold.Runtime.Serializable;

/// <summary>
/// The built-in workflow that seeds or migrates one table: one request per key, which writes the value
/// unless the key exists already (or always, when asked to overwrite). It runs through batches like any
/// workflow, so a seed is durable, ordered with live traffic, and re-executed from the batch log after a
/// crash; its definition is a function of the table name alone, so a restart resolves a logged seed
/// without the application registering anything.
/// </summary>
internal static class SeedWorkflow
{
    /// <summary>Workflow names with this prefix are reserved: user workflows may not take them.</summary>
    public const string Prefix = "$seed:";
    private const string Key = "key";
    private const string Value = "value";
    private const string Overwrite = "overwrite";
    private const string Function = "put";

    public static string NameFor(string table) => Prefix + table;

    /// <summary>The table a seed workflow's name stands for, or null when the name is not one.</summary>
    public static string? TableOf(string workflowName) =>
        workflowName.StartsWith(Prefix, StringComparison.Ordinal) && workflowName.Length > Prefix.Length ? workflowName[Prefix.Length..] : null;

    public static WorkflowDefinition For(string table) => new WorkflowBuilder(NameFor(table))
        .Function(Function, f => f.Updates(table, a => a.GetString(Key)).Body(ctx =>
        {
            string key = ctx.Args.GetString(Key);
            bool overwrite = ctx.Args.GetLong(Overwrite) != 0;
            if (!overwrite && ctx.Read(table, key) is not null) return [0];
            ctx.Write(table, key, ctx.Args.GetBytes(Value));
            return [1];
        }))
        .Build();

    public static Args ArgsFor(string key, byte[] value, bool overwrite) =>
        Args.Create().Set(Key, key).Set(Value, value).Set(Overwrite, overwrite ? 1 : 0).Build();

    /// <summary>Whether the request wrote its key (false: the key existed and was left alone).</summary>
    public static bool Wrote(WorkflowResult result) => result.Output(Function) is [1];
}
