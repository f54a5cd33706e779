namespace Leasehold.Tests.Support;

/// <summary>
/// Random workflows for the oracles: a DAG of functions, each reading or updating keys chosen by
/// parameters over two tables, mixing in its parents' outputs, some declared MayAbort, and — when asked —
/// some failing by error (a throw or an undeclared key).
/// </summary>
public static class RandomWorkflows
{
    public static readonly string[] Tables = ["t1", "t2"];

    public static WorkflowDefinition Generate(Random random, string name, int maxFunctions = 6, int maxKeysPerFunction = 3, double errorShare = 0)
    {
        var builder = new WorkflowBuilder(name);
        int n = random.Next(1, maxFunctions + 1);
        for (int i = 0; i < n; i++)
        {
            string fname = $"f{i}";
            var parents = Enumerable.Range(0, i).Where(_ => random.NextDouble() < 0.4).Select(p => $"f{p}").ToArray();
            int keys = random.NextDouble() < 0.1 ? 0 : random.Next(1, maxKeysPerFunction + 1); // a few pure functions too
            var accesses = Enumerable.Range(0, keys).Select(a => (Table: Tables[random.Next(Tables.Length)], Param: $"{fname}.{a}",
                Mode: random.NextDouble() < 0.6 ? AccessMode.ReadWrite : AccessMode.Read)).ToArray();
            bool mayAbort = random.NextDouble() < 0.3;
            int abortModulus = random.Next(3, 9);
            // Drawn only when errors are wanted, so error-free runs keep their seeds' workflows.
            bool mayFail = errorShare > 0 && random.NextDouble() < errorShare;
            int failModulus = errorShare > 0 ? random.Next(4, 11) : 0;
            bool undeclared = errorShare > 0 && random.NextDouble() < 0.5;
            builder.Function(fname, f =>
            {
                f.After(parents);
                foreach (var a in accesses) f.Access(a.Table, args => args.GetString(a.Param), a.Mode);
                if (mayAbort) f.MayAbort();
                f.Body(ctx =>
                {
                    long acc = ctx.Args.GetLong("salt") * 31 + ctx.Timestamp % 7;
                    foreach (var p in parents) acc = acc * 17 + Value.ToLong(ctx.Parent(p), -1);
                    foreach (var a in accesses) acc = acc * 13 + Value.ToLong(ctx.Read(a.Table, ctx.Args.GetString(a.Param)), -3);
                    if (mayAbort && Math.Abs(acc) % abortModulus == 0) ctx.Abort($"acc {acc}");
                    if (mayFail && Math.Abs(acc) % failModulus == 1)
                    {
                        if (undeclared) ctx.ReadLong("t1", "undeclared-key");
                        else throw new InvalidOperationException($"bug {acc}");
                    }
                    foreach (var a in accesses)
                        if (a.Mode == AccessMode.ReadWrite)
                        {
                            string key = ctx.Args.GetString(a.Param);
                            long v = Value.ToLong(ctx.Read(a.Table, key), 0);
                            ctx.WriteLong(a.Table, key, v + 1 + Math.Abs(acc % 100));
                        }
                    return Value.FromLong(acc % 1_000_003);
                });
            });
        }
        return builder.Build();
    }

    /// <summary>The parameter names a request must set: one per declared access.</summary>
    public static IEnumerable<string> ParamNames(WorkflowDefinition wf) =>
        wf.Functions.SelectMany(f => Enumerable.Range(0, f.Accesses.Count).Select(a => $"{f.Name}.{a}"));

    public static string Show(byte[]? v) => v is null ? "null" : v.Length == 8 ? Value.ToLong(v).ToString() : Convert.ToHexString(v);
}
