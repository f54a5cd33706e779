using Leasehold.Checkers.Causal;
using Leasehold.Runtime.Causal;

namespace Leasehold.Cli.Bench.Causal;

/// <summary>
/// Records a causal run's history for `leasehold check --model causal`: the engine's function records
/// turned into the checker's (<see cref="ToChecker"/>) and written as JSON lines by its recorder.
/// Values are the workload's unique 8-byte numbers, other values their 64-bit hash; a read of a key's
/// initial value is null.
/// </summary>
internal sealed class CausalHistoryWriter(string path) : IDisposable
{
    private readonly CausalHistoryRecorder _recorder = new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16));

    public string Path => path;
    public long Records => _recorder.Count;

    public void Record(CausalFunctionRecord record) => _recorder.Record(ToChecker(record));

    public static CausalRecord ToChecker(CausalFunctionRecord r)
    {
        var ops = new Checkers.Causal.CausalOp[r.Ops.Count];
        for (int i = 0; i < ops.Length; i++)
        {
            var op = r.Ops[i];
            ops[i] = op.IsWrite
                ? Checkers.Causal.CausalOp.Write(op.Key.ToString(), ValueId(op.Value))
                : Checkers.Causal.CausalOp.Read(op.Key.ToString(), op.Initial ? null : ValueId(op.Value));
        }
        return new CausalRecord(r.Process, r.Seq, r.Workflow, r.Function, r.Parents, r.Ok, ops) { Server = r.Server, Transaction = r.Transaction };
    }

    /// <summary>An 8-byte value is the number itself (the microbenchmark's); any other, its 64-bit hash; a delete, −1.</summary>
    public static long ValueId(byte[]? value) =>
        value is null ? -1 : value.Length == 8 ? Value.ToLong(value) : unchecked((long)System.IO.Hashing.XxHash64.HashToUInt64(value));

    public void Dispose() => _recorder.Dispose();
}
