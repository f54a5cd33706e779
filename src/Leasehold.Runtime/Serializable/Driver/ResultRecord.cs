using System.Text;

namespace Leasehold.Runtime.Serializable.Driver;

/// <summary>
/// The first result of a request with an idempotency key, stored as a versioned value of a reserved
/// table in the batch that ran it, so it commits (or vanishes) with that batch's commit record. A retry
/// with the same key returns it instead of running again. The record keeps the workflow and its
/// parameters, so a key reused for a different request is refused rather than answered wrongly.
/// </summary>
internal static class ResultRecord
{
    /// <summary>The reserved table; workflows may not declare it.</summary>
    public const string Table = "leasehold.results";
    private const byte Version = 1;

    public static StateKey KeyOf(string idempotencyKey) => new(Table, idempotencyKey);

    public static byte[] Encode(Request request, WorkflowResult result)
    {
        using var stream = new MemoryStream(64);
        using var w = new BinaryWriter(stream, Encoding.UTF8);
        w.Write(Version);
        w.Write(request.Workflow.Name);
        BatchInputCodec.WriteArgs(w, request.Args);
        w.Write((byte)result.Status);
        w.Write(result.Timestamp);
        w.Write(result.Reason is not null);
        if (result.Reason is not null) w.Write(result.Reason);
        w.Write(result.Outputs.Length);
        foreach (var output in result.Outputs)
        {
            w.Write(output?.Length ?? -1);
            if (output is not null) w.Write(output);
        }
        w.Flush();
        return stream.ToArray();
    }

    /// <summary>Two requests are the same request: one workflow, byte-equal parameters.</summary>
    public static bool SameInput(Request a, Request b) =>
        a.Workflow == b.Workflow && ArgsBytes(a.Args).AsSpan().SequenceEqual(ArgsBytes(b.Args));

    private static byte[] ArgsBytes(Args args)
    {
        using var stream = new MemoryStream(32);
        using var w = new BinaryWriter(stream, Encoding.UTF8);
        BatchInputCodec.WriteArgs(w, args);
        w.Flush();
        return stream.ToArray();
    }

    /// <summary>The stored result, or a Failed result naming the mismatch when the key was first used for another request.</summary>
    /// <param name="sameRequest">false when the record is of another request (the result is then the refusal)</param>
    public static WorkflowResult Decode(byte[] record, string idempotencyKey, WorkflowDefinition workflow, Args args, out bool sameRequest)
    {
        sameRequest = false;
        try
        {
            using var r = new BinaryReader(new MemoryStream(record, writable: false), Encoding.UTF8);
            byte version = r.ReadByte();
            if (version != Version) throw new FormatException($"result record of version {version}; this build reads version {Version}");
            string name = r.ReadString();
            var firstArgs = BatchInputCodec.ReadArgs(r, record.Length);
            var status = (WorkflowStatus)r.ReadByte();
            long ts = r.ReadInt64();
            string? reason = r.ReadBoolean() ? r.ReadString() : null;
            var outputs = new byte[]?[BatchInputCodec.Count(r, record.Length)];
            for (int i = 0; i < outputs.Length; i++)
            {
                int n = r.ReadInt32();
                if (n < -1 || n > record.Length) throw new FormatException($"an output of {n} bytes in a record of {record.Length}: corrupted");
                outputs[i] = n < 0 ? null : r.ReadBytes(n);
            }
            if (name != workflow.Name || !ArgsBytes(firstArgs).AsSpan().SequenceEqual(ArgsBytes(args)))
                return new WorkflowResult(WorkflowStatus.Failed, -1,
                    $"idempotency key '{idempotencyKey}' was first used for {name}({firstArgs}), not {workflow.Name}({args}); a key names one request", [], workflow);
            sameRequest = true;
            return new WorkflowResult(status, ts, reason, outputs, workflow);
        }
        catch (EndOfStreamException)
        {
            throw new FormatException($"the result record of idempotency key '{idempotencyKey}' ends early: truncated or corrupted");
        }
    }
}
