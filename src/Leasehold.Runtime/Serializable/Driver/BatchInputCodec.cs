using System.Text;

namespace Leasehold.Runtime.Serializable.Driver;

/// <summary>A batch's logged input: what re-executing it needs and nothing the workers computed.</summary>
public sealed record BatchInput(long Batch, long FirstTs, DateTimeOffset Time, IReadOnlyList<LoggedRequest> Requests, IReadOnlyList<LoggedLease> Leases);

/// <summary>One admitted request: its timestamp, the worker it was routed to, the workflow, its parameters and the caller's idempotency key.</summary>
public sealed record LoggedRequest(long Ts, int Worker, string Workflow, Args Args, string? IdempotencyKey = null);

/// <summary>One lease of the batch's table: who holds the key for the batch, and who held it before.</summary>
public sealed record LoggedLease(StateKey Key, int Holder, int PreviousHolder, bool Written);

/// <summary>
/// The batch log's record format (§7: the input is durable before execution, so any failure is
/// repaired by deterministic re-execution). A version byte first, then fixed-width little-endian
/// numbers and length-prefixed UTF-8; a record that does not decode whole is refused, naming what broke.
/// </summary>
public static class BatchInputCodec
{
    private const byte Version = 2;
    private const byte LongArg = 1, StringArg = 2, BytesArg = 3;

    internal static byte[] Encode(long batch, long firstTs, DateTimeOffset time, IReadOnlyList<Request> requests, IReadOnlyList<LeaseEntry> leases)
    {
        using var stream = new MemoryStream(64 + requests.Count * 48 + leases.Count * 24);
        using var w = new BinaryWriter(stream, Encoding.UTF8);
        w.Write(Version);
        w.Write(batch);
        w.Write(firstTs);
        w.Write(time.UtcTicks);
        w.Write(requests.Count);
        foreach (var r in requests)
        {
            w.Write(r.Ts);
            w.Write(r.Worker);
            w.Write(r.Workflow.Name);
            WriteArgs(w, r.Args);
            w.Write(r.IdempotencyKey is not null);
            if (r.IdempotencyKey is not null) w.Write(r.IdempotencyKey);
        }
        w.Write(leases.Count);
        foreach (var l in leases)
        {
            w.Write(l.Key.Table);
            w.Write(l.Key.Key);
            w.Write(l.Holder);
            w.Write(l.PreviousHolder);
            w.Write(l.Written);
        }
        w.Flush();
        return stream.ToArray();
    }

    public static BatchInput Decode(byte[] record)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(record, writable: false), Encoding.UTF8);
            byte version = r.ReadByte();
            if (version != Version) throw new FormatException($"batch log record of version {version}; this build reads version {Version}");
            long batch = r.ReadInt64(), firstTs = r.ReadInt64();
            var time = new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero);
            var requests = new LoggedRequest[Count(r, record.Length)];
            for (int i = 0; i < requests.Length; i++)
            {
                long ts = r.ReadInt64();
                int worker = r.ReadInt32();
                string workflow = r.ReadString();
                var args = ReadArgs(r, record.Length);
                string? key = r.ReadBoolean() ? r.ReadString() : null;
                requests[i] = new LoggedRequest(ts, worker, workflow, args, key);
            }
            var leases = new LoggedLease[Count(r, record.Length)];
            for (int i = 0; i < leases.Length; i++)
                leases[i] = new LoggedLease(new StateKey(r.ReadString(), r.ReadString()), r.ReadInt32(), r.ReadInt32(), r.ReadBoolean());
            if (r.BaseStream.Position != record.Length) throw new FormatException($"{record.Length - r.BaseStream.Position} bytes after the record's end");
            return new BatchInput(batch, firstTs, time, requests, leases);
        }
        catch (EndOfStreamException)
        {
            throw new FormatException($"the batch log record ends early ({record.Length} bytes): truncated or corrupted");
        }
    }

    internal static void WriteArgs(BinaryWriter w, Args args)
    {
        w.Write(args.Count);
        for (int i = 0; i < args.Count; i++)
        {
            w.Write(args.NameAt(i));
            switch (args.StoredValueAt(i))
            {
                case long l: w.Write(LongArg); w.Write(l); break;
                case string s: w.Write(StringArg); w.Write(s); break;
                case byte[] b: w.Write(BytesArg); w.Write(b.Length); w.Write(b); break;
                case var other: throw new InvalidOperationException($"parameter '{args.NameAt(i)}' is a {other.GetType().Name}, which the batch log cannot hold");
            }
        }
    }

    internal static Args ReadArgs(BinaryReader r, int recordLength)
    {
        var args = Args.Create();
        int n = Count(r, recordLength);
        for (int a = 0; a < n; a++)
        {
            string name = r.ReadString();
            switch (r.ReadByte())
            {
                case LongArg: args.Set(name, r.ReadInt64()); break;
                case StringArg: args.Set(name, r.ReadString()); break;
                case BytesArg: args.Set(name, r.ReadBytes(Count(r, recordLength))); break;
                case var tag: throw new FormatException($"parameter '{name}' has unknown type tag {tag}");
            }
        }
        return args.Build();
    }

    /// <summary>A count that cannot exceed what the record could hold (a corrupted one would allocate without bound).</summary>
    internal static int Count(BinaryReader r, int recordLength)
    {
        int n = r.ReadInt32();
        if (n < 0 || n > recordLength) throw new FormatException($"a count of {n} in a record of {recordLength} bytes: corrupted");
        return n;
    }
}
