namespace Leasehold.Runtime.Transport.Wire;

/// <summary>
/// What a decoded frame may hold. The frame bound comes first and caps every allocation: the serializer
/// checks each collection's declared length against the bytes that remain, so a forged length cannot make
/// the decoder allocate more than a small multiple of a frame. The other bounds are checked on the decoded
/// message, so a frame that is well formed but asks for more than a node accepts is refused by field.
/// </summary>
public sealed record WireLimits
{
    public static WireLimits Default { get; } = new();

    /// <summary>The largest frame, header included: a batch's plan is the largest message (the plan's <c>MaxPlanBytes</c>).</summary>
    public int MaxFrameBytes { get; init; } = 64 << 20;
    /// <summary>The largest byte value (a function's output, a bytes parameter): <c>MaxValueBytes</c>, 1 MiB by default.</summary>
    public int MaxValueBytes { get; init; } = 1 << 20;
    /// <summary>The longest string (a workflow name, a table or key, a parameter name or value, a reason), in UTF-16 chars.</summary>
    public int MaxStringChars { get; init; } = 64 << 10;
    public int MaxArgs { get; init; } = 256;
    /// <summary>Workflows in one plan, outcomes in one executed message.</summary>
    public int MaxWorkflowsPerBatch { get; init; } = 1 << 16;
    public int MaxFunctionsPerWorkflow { get; init; } = 1024;
    public int MaxAccessesPerFunction { get; init; } = 1024;
    /// <summary>Keys in one batch: a plan's leases, a peer's records, an outcome's keys.</summary>
    public int MaxKeysPerBatch { get; init; } = 1 << 20;
    /// <summary>Worker indexes (lease holders) lie in [0, MaxWorkers): <c>ClusterOptions.Workers</c> is at most 1024.</summary>
    public int MaxWorkers { get; init; } = 1024;
    /// <summary>Cache servers: a vector clock has at most this many entries, a server index lies below it (<c>CausalOptions.Servers</c> is at most 1024).</summary>
    public int MaxServers { get; init; } = 1024;

    /// <summary>The limits of a cluster whose values may be <paramref name="maxValueBytes"/> long: a frame holds one with room for its fields.</summary>
    public static WireLimits ForValues(int maxValueBytes) =>
        Default with { MaxValueBytes = maxValueBytes, MaxFrameBytes = Math.Max(Default.MaxFrameBytes, maxValueBytes + FieldsHeadroomBytes) };

    /// <summary>Room a frame keeps beside the values and parameters it carries, for every other field of the message.</summary>
    public const int FieldsHeadroomBytes = 64 << 10;

    /// <summary>How many bytes of parameters one plan may carry: the frame less its headroom.</summary>
    public long MaxParameterBytes => MaxFrameBytes - FieldsHeadroomBytes;
}
