namespace Leasehold;

/// <summary>
/// Builds a workflow: a DAG of functions, each declaring the state it touches.
/// <code>
/// var transfer = new WorkflowBuilder("transfer")
///     .Function("check", f => f.Reads("accounts", a => a.GetString("src")).MayAbort().Body(ctx => ...))
///     .Function("withdraw", f => f.After("check").Updates("accounts", a => a.GetString("src")).Body(ctx => ...))
///     .Build();
/// </code>
/// </summary>
public sealed class WorkflowBuilder
{
    private readonly string _name;
    private readonly List<FunctionBuilder> _functions = [];
    private Consistency _consistency = Consistency.Serializable;

    public WorkflowBuilder(string name)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new WorkflowDefinitionException("a workflow needs a name");
        _name = name;
    }

    public WorkflowBuilder WithConsistency(Consistency consistency)
    {
        _consistency = consistency;
        return this;
    }

    public WorkflowBuilder Function(string name, Action<FunctionBuilder> configure)
    {
        var builder = new FunctionBuilder(name);
        configure(builder);
        _functions.Add(builder);
        return this;
    }

    /// <summary>Validates the DAG and returns the definition; the message of any failure names the culprit.</summary>
    public WorkflowDefinition Build()
    {
        if (_functions.Count == 0) throw new WorkflowDefinitionException($"workflow '{_name}' has no functions");
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _functions.Count; i++)
        {
            var f = _functions[i];
            if (string.IsNullOrWhiteSpace(f.Name)) throw new WorkflowDefinitionException($"workflow '{_name}': function #{i} has no name");
            if (!byName.TryAdd(f.Name, i)) throw new WorkflowDefinitionException($"workflow '{_name}': duplicate function name '{f.Name}'");
        }
        foreach (var f in _functions)
        {
            if (f.BodyFunc is null) throw new WorkflowDefinitionException($"workflow '{_name}': function '{f.Name}' has no body");
            if (f.BodyIsAsync)
                throw new WorkflowDefinitionException($"workflow '{_name}': function '{f.Name}' has an async body; bodies are synchronous (their reads are served from the cache, so there is nothing to await), and whatever an async body did after its first await would be lost");
            foreach (var p in f.ParentNames)
            {
                if (!byName.ContainsKey(p)) throw new WorkflowDefinitionException($"workflow '{_name}': function '{f.Name}' names unknown parent '{p}'");
                if (p == f.Name) throw new WorkflowDefinitionException($"workflow '{_name}': function '{f.Name}' names itself as parent (cycle)");
            }
            for (int a = 0; a < f.AccessList.Count; a++)
            {
                var access = f.AccessList[a];
                if (string.IsNullOrWhiteSpace(access.Table)) throw new WorkflowDefinitionException($"workflow '{_name}': function '{f.Name}' access #{a} has no table");
                if (access.KeySelector is null && !access.AnyKey) throw new WorkflowDefinitionException($"workflow '{_name}': function '{f.Name}' access #{a} on table '{access.Table}' has no key selector");
            }
        }

        // Kahn's algorithm; among ready functions, declaration order wins, so positions are deterministic.
        int n = _functions.Count;
        var indegree = new int[n];
        var children = new List<int>[n];
        for (int i = 0; i < n; i++) children[i] = [];
        for (int i = 0; i < n; i++)
            foreach (var p in _functions[i].ParentNames.Distinct())
            {
                indegree[i]++;
                children[byName[p]].Add(i);
            }
        var order = new List<int>(n);
        var ready = new SortedSet<int>(Enumerable.Range(0, n).Where(i => indegree[i] == 0));
        while (ready.Count > 0)
        {
            int next = ready.Min;
            ready.Remove(next);
            order.Add(next);
            foreach (var c in children[next])
                if (--indegree[c] == 0) ready.Add(c);
        }
        if (order.Count != n)
            throw new WorkflowDefinitionException($"workflow '{_name}' has a cycle: {string.Join(" → ", FindCycle(indegree, byName))}");

        var position = new int[n];
        for (int p = 0; p < n; p++) position[order[p]] = p;
        var defs = new FunctionDefinition[n];
        for (int p = 0; p < n; p++)
        {
            var f = _functions[order[p]];
            var parents = f.ParentNames.Distinct().Select(x => position[byName[x]]).OrderBy(x => x).ToArray();
            defs[p] = new FunctionDefinition(f.Name, p, [.. f.AccessList], f.CanAbort, f.BodyFunc!, parents);
        }
        foreach (var d in defs)
            d.Children = defs.Where(c => c.Parents.Contains(d.Index)).Select(c => c.Index).ToArray();

        ComputeOutcomeGating(defs);
        return new WorkflowDefinition(_name, _consistency, defs);
    }

    /// <summary>
    /// One cycle among the functions Kahn's algorithm left (indegree still positive), as names in edge
    /// order with the first repeated at the end (a → b → a). Every such function has a parent that was
    /// also left, so walking parents from one of them must close a loop; functions merely downstream of
    /// the cycle are not on it and are not named. The walk starts at the first declared leftover and
    /// takes the first declared leftover parent, so the message is the same on every run.
    /// </summary>
    private List<string> FindCycle(int[] indegree, Dictionary<string, int> byName)
    {
        int start = Array.FindIndex(indegree, d => d > 0);
        var walk = new List<int>();
        var seenAt = new Dictionary<int, int>();
        int at = start;
        while (!seenAt.ContainsKey(at))
        {
            seenAt[at] = walk.Count;
            walk.Add(at);
            at = _functions[at].ParentNames.Select(p => byName[p]).First(p => indegree[p] > 0);
        }
        // The walk went child → parent; the cycle reads parent → child, from its first declared function.
        var cycle = walk.GetRange(seenAt[at], walk.Count - seenAt[at]);
        cycle.Reverse();
        int first = cycle.IndexOf(cycle.Min());
        cycle = [.. cycle.Skip(first), .. cycle.Take(first)];
        cycle.Add(cycle[0]);
        return cycle.ConvertAll(i => _functions[i].Name);
    }

    /// <summary>
    /// Which writes must wait for an outcome, known statically from the DAG: under Strict, a function's
    /// writes are exposed as soon as it finishes only when every other function is its ancestor (then
    /// nothing that runs after it can fail, by abort or by error); under DeclaredAborts, when every
    /// function declared MayAbort is its ancestor.
    /// </summary>
    private static void ComputeOutcomeGating(FunctionDefinition[] defs)
    {
        int n = defs.Length;
        var ancestors = new bool[n][];
        for (int i = 0; i < n; i++)
        {
            ancestors[i] = new bool[n];
            foreach (var p in defs[i].Parents)
            {
                ancestors[i][p] = true;
                for (int j = 0; j < n; j++) ancestors[i][j] |= ancestors[p][j];
            }
        }
        for (int i = 0; i < n; i++)
        {
            bool others = false, aborters = false;
            for (int j = 0; j < n; j++)
                if (j != i && !ancestors[i][j])
                {
                    others = true;
                    aborters |= defs[j].MayAbort;
                }
            defs[i].WritesAwaitOutcome = others && defs[i].Writes;
            defs[i].WritesAwaitDeclaredAborts = aborters && defs[i].Writes;
        }
    }
}

/// <summary>Declares one function: its parents, its state accesses, whether it may abort, and its body.</summary>
public sealed class FunctionBuilder
{
    internal FunctionBuilder(string name) => Name = name;

    internal string Name { get; }
    internal List<string> ParentNames { get; } = [];
    internal List<StateAccess> AccessList { get; } = [];
    internal bool CanAbort { get; private set; }
    internal Func<FunctionContext, byte[]?>? BodyFunc { get; private set; }
    /// <summary>The body given is an async method: it would return at its first await, and the engine would commit without the rest.</summary>
    internal bool BodyIsAsync { get; private set; }

    /// <summary>Parametric edges: this function consumes the outputs of <paramref name="parents"/>.</summary>
    public FunctionBuilder After(params string[] parents)
    {
        ParentNames.AddRange(parents);
        return this;
    }

    public FunctionBuilder Reads(string table, Func<Args, string> keySelector) => Access(table, keySelector, AccessMode.Read);

    public FunctionBuilder Updates(string table, Func<Args, string> keySelector) => Access(table, keySelector, AccessMode.ReadWrite);

    /// <summary>Any key of <paramref name="table"/>, read-only, chosen while the body runs (causal workflows only).</summary>
    public FunctionBuilder ReadsAny(string table)
    {
        AccessList.Add(new StateAccess(table, null!, AccessMode.Read, AnyKey: true));
        return this;
    }

    public FunctionBuilder Access(string table, Func<Args, string> keySelector, AccessMode mode)
    {
        AccessList.Add(new StateAccess(table, keySelector, mode));
        return this;
    }

    /// <summary>Declares that the body may call <see cref="FunctionContext.Abort"/>.</summary>
    public FunctionBuilder MayAbort()
    {
        CanAbort = true;
        return this;
    }

    /// <summary>
    /// The body: synchronous, deterministic given its context; it returns the function's output. The returned
    /// array is handed over, not copied (on the in-process transport it reaches the caller as it is): do not
    /// change it after returning, for example by returning a buffer the body reuses.
    /// </summary>
    public FunctionBuilder Body(Func<FunctionContext, byte[]?> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        BodyFunc = body;
        BodyIsAsync = IsAsync(body);
        return this;
    }

    /// <summary>A body with no output. An <c>async</c> lambda binds here as <c>async void</c>, so <see cref="WorkflowBuilder.Build"/> refuses it.</summary>
    public FunctionBuilder Body(Action<FunctionContext> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        BodyFunc = ctx => { body(ctx); return null; };
        BodyIsAsync = IsAsync(body);
        return this;
    }

    private static bool IsAsync(Delegate body) =>
        body.Method.GetCustomAttributes(typeof(System.Runtime.CompilerServices.AsyncStateMachineAttribute), inherit: false).Length > 0;
}
