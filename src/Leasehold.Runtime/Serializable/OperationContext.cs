using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Runtime.Serializable;

/// <summary>
/// The <see cref="FunctionContext"/> an executor hands a body: the operation's acquired values, its
/// parents' outputs and a write buffer. Reads and parents' outputs return copies and writes are copied,
/// so a body that keeps or mutates an array never changes cached state, a sibling's input or the
/// caller's result behind the engine's back.
/// </summary>
internal sealed class OperationContext : FunctionContext
{
    private readonly WorkflowDefinition _workflow;
    private readonly FunctionDefinition _function;
    private readonly ResolvedAccess[] _accesses;
    private readonly byte[]?[] _values;
    private readonly byte[]?[] _outputs;
    private readonly DateTimeOffset _batchTime;
    private readonly int _maxValueBytes;
    private Random? _random;
    private bool _closed;
    // Private, not the context itself: the body holds the context and may lock on it, and a guard it can take
    // would deadlock a body that locks it and waits for another thread using the context.
    private readonly object _guard = new();

    public OperationContext(WorkflowDefinition workflow, FunctionDefinition function, Args args, long ts, DateTimeOffset batchTime,
        ResolvedAccess[] accesses, byte[]?[] values, byte[]?[] outputs, int maxValueBytes = RegionMemory.DefaultMaxValueBytes)
    {
        _maxValueBytes = maxValueBytes;
        _workflow = workflow;
        _function = function;
        Args = args;
        Timestamp = ts;
        _batchTime = batchTime;
        _accesses = accesses;
        _values = values;
        _outputs = outputs;
    }

    public WriteSet? Writes { get; private set; }

    /// <summary>The largest value a region slot holds, and so the largest output a function may return.</summary>
    public int MaxValueBytes => _maxValueBytes;

    /// <summary>
    /// Called when the body has returned (or thrown): from then on the context refuses every call, so a Task the
    /// body left running can neither change the writes or the outcome the engine took nor read state it no longer owns. Every
    /// call and this take the context's guard, so no call is half-way through once this returns.
    /// </summary>
    public void Close()
    {
        lock (_guard) _closed = true;
    }

    private void EnsureOpen()
    {
        if (_closed) throw new FunctionContextClosedException(_workflow.Name, _function.Name);
    }

    /// <summary>
    /// The first violation or abort the body raised, kept even if the body catches the exception, so a
    /// catch-all in user code cannot turn a broken declaration or an abort into a success.
    /// </summary>
    public (WorkflowStatus Status, string Reason)? Ended { get; private set; }

    private DeclarationViolationException Violation(string message)
    {
        Ended ??= (WorkflowStatus.Failed, message);
        return new DeclarationViolationException(message);
    }

    public override Args Args { get; }
    public override long Timestamp { get; }
    public override DateTimeOffset BatchTime => _batchTime;
    public override string FunctionName => _function.Name;

    public override Random Random => _random ??= new Random(SeedFor(Timestamp, _function.Index));

    /// <summary>A seed that depends only on the request and the function, so re-execution draws the same numbers.</summary>
    public static int SeedFor(long ts, int position) => (int)((ulong)(ts * unchecked((long)0x9E3779B97F4A7C15) + position) >> 33);

    public override byte[]? Read(string table, string key)
    {
        lock (_guard)
        {
            EnsureOpen();
            var value = Current(Find(table, key, forWrite: false));
            return value is null ? null : (byte[])value.Clone();
        }
    }

    /// <summary>Decodes the held value in place: the body gets a long, not the array, so no copy is needed.</summary>
    public override long ReadLong(string table, string key, long absent = 0)
    {
        lock (_guard)
        {
            EnsureOpen();
            return Value.ToLong(Current(Find(table, key, forWrite: false)), absent);
        }
    }

    public override void Write(string table, string key, byte[]? value)
    {
        lock (_guard)
        {
            EnsureOpen();
            int i = Find(table, key, forWrite: true);
            if (value is not null) CheckSize(table, key, value.Length);
            Keep(i, value is null ? null : (byte[])value.Clone());
        }
    }

    /// <summary>Encodes into a fresh array nobody else holds, so unlike <see cref="Write"/> it keeps it without a copy.</summary>
    public override void WriteLong(string table, string key, long value)
    {
        lock (_guard)
        {
            EnsureOpen();
            int i = Find(table, key, forWrite: true);
            var encoded = Value.FromLong(value);
            CheckSize(table, key, encoded.Length);
            Keep(i, encoded);
        }
    }

    /// <summary>
    /// Refuses a value no region slot can hold, before it is kept: the workflow fails with the reason, and no
    /// region is touched, so the value from before stays. A region would refuse it too, but only later, on a
    /// worker's mailbox, where it could no longer fail just this workflow.
    /// </summary>
    private void CheckSize(string table, string key, int length)
    {
        if (length > _maxValueBytes)
            throw Violation($"function '{_function.Name}' wrote {length} bytes to {table}/{key}; the configured maximum value size is {_maxValueBytes} bytes (MaxValueBytes)");
    }

    /// <summary>The value of access <paramref name="i"/> as this body sees it: its own write, or the acquired value.</summary>
    private byte[]? Current(int i) => Writes is { } w && w.Written[i] ? w.Values[i] : _values[i];

    /// <summary>Records a write of an array the context owns.</summary>
    private void Keep(int i, byte[]? owned)
    {
        Writes ??= new WriteSet(_accesses.Length);
        Writes.Written[i] = true;
        Writes.Values[i] = owned;
    }

    public override byte[]? Parent(string functionName)
    {
        lock (_guard)
        {
            EnsureOpen();
            foreach (var p in _function.Parents)
                if (_workflow.Functions[p].Name == functionName) return _outputs[p] is { } output ? (byte[])output.Clone() : null;
            throw Violation($"function '{_function.Name}' asked for the output of '{functionName}', which is not one of its parents");
        }
    }

    public override void Abort(string reason)
    {
        lock (_guard)
        {
            // Wholly under the lock: once Close returns, no late Abort can set Ended after the engine judged the body.
            EnsureOpen();
            if (!_function.MayAbort)
                throw Violation($"function '{_function.Name}' called Abort(\"{reason}\") but is not declared MayAbort()");
            Ended ??= (WorkflowStatus.Aborted, $"{_function.Name}: {reason}");
        }
        throw new WorkflowAbortedException(reason);
    }

    private int Find(string table, string key, bool forWrite)
    {
        for (int i = 0; i < _accesses.Length; i++)
        {
            var k = _accesses[i].Key;
            if (k.Key == key && k.Table == table)
            {
                if (forWrite && _accesses[i].Mode != AccessMode.ReadWrite)
                    throw Violation($"function '{_function.Name}' wrote {table}/{key}, which it declared read-only");
                return i;
            }
        }
        throw Violation($"function '{_function.Name}' {(forWrite ? "wrote" : "read")} {table}/{key}, which it did not declare");
    }
}
