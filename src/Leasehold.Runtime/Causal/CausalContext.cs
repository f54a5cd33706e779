namespace Leasehold.Runtime.Causal;

/// <summary>One micro-operation of a function as it ran: a read and the value it got (Initial: nobody's write), or a write.</summary>
public readonly record struct CausalOp(bool IsWrite, StateKey Key, byte[]? Value, bool Initial = false);

/// <summary>
/// The <see cref="FunctionContext"/> of a causal function: each read and write goes to the cache server
/// the function runs on, with the workflow's session, at once (causal reads and writes never wait for
/// anyone). In a read-write transaction, reads come from the transaction's snapshot and writes are
/// buffered until it commits. Declarations are enforced as in the serializable mode; a causal function
/// cannot abort by itself (a transaction aborts only when its snapshot is gone).
/// <para>
/// With <paramref name="deferWrites"/> (a function with an any-key read on a server with a store) the
/// writes are buffered and issued only by <see cref="ApplyDeferredWrites"/> after the body returns, and
/// the body reads its own buffered writes: a read of a key the server has not loaded then leaves no trace
/// (<see cref="Missed"/>), so the attempt can be discarded and the function run again once the key is
/// loaded. Issuing them after the body is safe because the body runs in one step on the server's mailbox;
/// the one difference is that each write's deps also include the reads the body made after it.
/// </para>
/// </summary>
internal sealed class CausalContext(WorkflowDefinition workflow, FunctionDefinition function, Args args, long workflowId, DateTimeOffset now,
    ICacheServer server, CausalSession session, byte[]?[] outputs, bool record, bool deferWrites = false)
    : CausalFunctionContext(workflow, function, args, workflowId, now, outputs, record)
{
    private List<(StateKey Key, byte[]? Value)>? _deferred;

    /// <summary>The first key this attempt read that its server has not loaded (null: none); the attempt must be discarded.</summary>
    public StateKey? Missed { get; private set; }

    /// <summary>
    /// What the server threw during one of the body's reads or writes (null: nothing): the runtime's failure, which
    /// the body only passed on, so the workflow's result must not call it the function's error.
    /// </summary>
    public Exception? RuntimeError { get; private set; }

    private readonly bool _transactional = workflow.Consistency == Consistency.TransactionalCausal;

    protected override byte[]? ReadDeclared(string table, string key)
    {
        var k = Declared(table, key, forWrite: false);
        if (_transactional && session.Pending is { } pending && pending.TryGetValue(k, out var buffered))
        {
            Ops?.Add(new CausalOp(false, k, buffered.Value));
            return buffered.Value is null ? null : (byte[])buffered.Value.Clone();
        }
        if (_deferred is not null)
            for (int d = _deferred.Count - 1; d >= 0; d--)
                if (_deferred[d].Key == k)
                {
                    Ops?.Add(new CausalOp(false, k, _deferred[d].Value));
                    return _deferred[d].Value is { } own ? (byte[])own.Clone() : null;
                }
        CausalVersion version;
        try
        {
            version = _transactional ? server.ReadInSnapshot(session, k) : server.Read(session, k);
        }
        catch (CausalMissException)
        {
            Missed ??= k;
            throw;
        }
        catch (Exception e) when (e is not SnapshotUnavailableException)
        {
            RuntimeError ??= e;
            throw;
        }
        var value = version.Value;
        Ops?.Add(new CausalOp(false, k, value, version.Clock.IsZero));
        return value is null ? null : (byte[])value.Clone();
    }

    protected override void WriteDeclared(string table, string key, byte[]? value)
    {
        var k = Declared(table, key, forWrite: true);
        var copy = value is null ? null : (byte[])value.Clone();
        if (_transactional) (session.Pending ??= [])[k] = (copy, Function.Index); // visible at commit, with the transaction's other writes
        else if (deferWrites) (_deferred ??= []).Add((k, copy));
        else
        {
            try { server.Write(session, k, copy); }
            catch (Exception e)
            {
                RuntimeError ??= e;
                throw;
            }
        }
        Ops?.Add(new CausalOp(true, k, copy));
    }

    /// <summary>Issues the buffered writes, in the order the body made them.</summary>
    public void ApplyDeferredWrites()
    {
        if (_deferred is null) return;
        foreach (var (key, value) in _deferred) server.Write(session, key, value);
        _deferred = null;
    }

    protected override string WhyAbortIsRefused => "causal workflows never abort (their writes are visible at once)";
}
