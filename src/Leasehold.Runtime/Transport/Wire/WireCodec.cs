using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Messages;
using MemoryPack;
using MemoryPack.Formatters;

namespace Leasehold.Runtime.Transport.Wire;

/// <summary>
/// Frames a message for the wire and reads it back. A frame is the fixed <see cref="WireHeader"/> then the
/// body, which MemoryPack writes from the record's generated serializer. Why MemoryPack: it is
/// source-generated (no reflection at run time, works under .NET 10 / C# 14), it copies arrays of plain
/// values as one block, and it checks every collection's declared length against the bytes that remain
/// before allocating, so a forged length fails without allocating in proportion to it (a string's
/// forged negative length is refused too: checked on 1.22.0). Its layout tolerates no change of a record,
/// which the header's protocol version covers: a frame of another version is refused.
/// </summary>
public static class WireCodec
{
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_body;
    [ThreadStatic] private static WireLimits? t_limits;
    // A plan can be tens of MiB; a thread keeps a scratch buffer only up to this size between frames.
    private const int KeptScratchBytes = 1 << 20;

    static WireCodec()
    {
        MemoryPackFormatterProvider.Register(StateKeyFormatter.Instance);
        MemoryPackFormatterProvider.Register(new ArgsFormatter());
        MemoryPackFormatterProvider.Register(new LeaseEntryFormatter());
        MemoryPackFormatterProvider.Register(new ResolvedAccessFormatter());
        MemoryPackFormatterProvider.Register(new VirtualVertexFormatter());
        MemoryPackFormatterProvider.Register(new ArrayFormatter<LeaseEntry>());
        MemoryPackFormatterProvider.Register(new ArrayFormatter<ResolvedAccess>());
        MemoryPackFormatterProvider.Register(new ArrayFormatter<ResolvedAccess[]>());
        MemoryPackFormatterProvider.Register(new ArrayFormatter<VirtualVertex>());
        MemoryPackFormatterProvider.Register(VectorClockFormatter.Instance);
        MemoryPackFormatterProvider.Register(CausalVersionFormatter.Instance);
        MemoryPackFormatterProvider.Register(SessionDataFormatter.Instance);
        MemoryPackFormatterProvider.Register(new FunctionRecordDataFormatter());
        MemoryPackFormatterProvider.Register(new PropagationFormatter());
        MemoryPackFormatterProvider.Register(new StableNoticeFormatter());
    }

    private static readonly Lazy<IReadOnlyList<Type>> s_prepared = new(PrepareFormatters);

    /// <summary>
    /// Builds the serializer's formatter of every type this assembly marks [MemoryPackable] (and of arrays of them) on the
    /// calling thread, once; the types prepared. Call it before the threads that encode and decode start (every
    /// transport that serializes does, in its constructor). MemoryPack registers a type's formatter both from the type's
    /// static constructor and from its formatter cache's; when one thread first builds a message (running the type's
    /// constructor) while another first decodes one of that type (running the cache's), each constructor waits for the
    /// other, and the runtime breaks that cycle by letting one thread see the cache unfilled: its decode dereferences a
    /// null formatter. Seen in worker processes under load: a link's reader died on its first frame.
    /// </summary>
    public static IReadOnlyList<Type> Prepare() => s_prepared.Value;

    private static IReadOnlyList<Type> PrepareFormatters()
    {
        // IsRegistered<T> fills the type's formatter cache (running its constructor) and says whether it holds a formatter.
        var isRegistered = typeof(MemoryPackFormatterProvider).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Single(m => m.Name == nameof(MemoryPackFormatterProvider.IsRegistered) && m.IsGenericMethodDefinition && m.GetParameters().Length == 0);
        var types = typeof(WireCodec).Assembly.GetTypes()
            .Where(t => t.IsDefined(typeof(MemoryPackableAttribute), inherit: false) && !t.IsGenericTypeDefinition)
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .ToList();
        foreach (var type in types)
        {
            RuntimeHelpers.RunClassConstructor(type.TypeHandle);
            if (isRegistered.MakeGenericMethod(type).Invoke(null, null) is not true)
                throw new InvalidOperationException($"MemoryPack has no formatter for {type.FullName} after its constructor ran");
            isRegistered.MakeGenericMethod(type.MakeArrayType()).Invoke(null, null);
        }
        return types;
    }

    /// <summary>
    /// Writes <paramref name="message"/>'s frame: its kind, its stamped sender and incarnation, the link
    /// sequence, then its body. A message type missing from <see cref="MessageKinds"/> is a bug: it throws.
    /// </summary>
    public static void Encode(Message message, IBufferWriter<byte> output, ulong linkSequence = 0)
    {
        var kind = MessageKinds.Of(message);
        var body = t_body ??= new ArrayBufferWriter<byte>(256);
        try
        {
            kind.WriteBody(message, body);
            int frameLength = checked(WireHeader.Size + body.WrittenCount);
            var frame = output.GetSpan(frameLength);
            new WireHeader(kind.Kind, (uint)body.WrittenCount, (uint)message.From.Packed, (uint)message.Incarnation.Number, linkSequence).Write(frame);
            body.WrittenSpan.CopyTo(frame[WireHeader.Size..]);
            output.Advance(frameLength);
        }
        finally
        {
            if (body.Capacity > KeptScratchBytes) t_body = null;
            else body.ResetWrittenCount();
        }
    }

    /// <summary>
    /// Reads one whole frame. Never throws: input that is not a frame this build accepts within
    /// <paramref name="limits"/> comes back as false with the <paramref name="refusal"/> that names why. On
    /// success the message is a fresh object graph, stamped with the header's sender and incarnation.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> frame, WireLimits limits, [NotNullWhen(true)] out Message? message, out WireRefusal refusal)
    {
        message = null;
        refusal = default;
        if (frame.Length < WireHeader.Size)
            return Refuse(new(WireRefusalKind.TooShort, $"{frame.Length} bytes; the header alone is {WireHeader.Size}"), out refusal);
        var (magic, version) = WireHeader.ReadPreamble(frame);
        if (magic != WireHeader.Magic)
            return Refuse(new(WireRefusalKind.BadMagic, $"0x{magic:X4}"), out refusal);
        if (version != WireHeader.ProtocolVersion)
            return Refuse(new(WireRefusalKind.UnknownVersion, $"version {version}; this build speaks {WireHeader.ProtocolVersion}"), out refusal);
        var header = WireHeader.Read(frame);
        var kind = MessageKinds.Find(header.Kind);
        if (kind is null)
            return Refuse(new(WireRefusalKind.UnknownKind, $"kind {header.Kind}"), out refusal);
        if (frame.Length > limits.MaxFrameBytes || WireHeader.Size + (long)header.BodyLength > limits.MaxFrameBytes)
            return Refuse(new(WireRefusalKind.Oversized, $"{kind.Type.Name} of {Math.Max(frame.Length, WireHeader.Size + (long)header.BodyLength)} bytes; the limit is {limits.MaxFrameBytes}"), out refusal);
        if (header.BodyLength != frame.Length - WireHeader.Size)
            return Refuse(new(WireRefusalKind.LengthMismatch, $"the header says {header.BodyLength} body bytes; {frame.Length - WireHeader.Size} follow"), out refusal);
        if (!NodeId.TryUnpack((int)header.Sender, out var sender))
            return Refuse(WireRefusal.FieldOutOfBounds("sender"), out refusal);
        if (header.Incarnation > int.MaxValue)
            return Refuse(WireRefusal.FieldOutOfBounds("incarnation"), out refusal);

        Message decoded;
        var outerLimits = t_limits;
        try
        {
            t_limits = limits;
            decoded = kind.ReadBody(frame[WireHeader.Size..]);
        }
        // The one place the serializer's exceptions are caught: each is a body that is not its kind's layout.
        catch (WireRefusedException e) { return Refuse(e.Refusal, out refusal); }
        catch (MemoryPackSerializationException e) { return Refuse(WireRefusal.Malformed($"{kind.Type.Name}: {e.Message}"), out refusal); }
        catch (Exception e) when (e is ArgumentException or OverflowException or IndexOutOfRangeException or InvalidOperationException)
        {
            return Refuse(WireRefusal.Malformed($"{kind.Type.Name}: {e.GetType().Name}: {e.Message}"), out refusal);
        }
        finally { t_limits = outerLimits; }
        if (kind.Check(decoded, limits) is { } outOfBounds)
            return Refuse(outOfBounds, out refusal);
        decoded.Stamp(sender, new Incarnation((int)header.Incarnation));
        message = decoded;
        return true;
    }

    /// <summary>
    /// The limits of the frame being decoded on this thread, for a formatter that must refuse a count before
    /// it reads what the count announces (the serializer's formatters take no state of their own).
    /// </summary>
    internal static WireLimits DecodingLimits => t_limits ?? WireLimits.Default;

    private static bool Refuse(WireRefusal reason, out WireRefusal refusal)
    {
        refusal = reason;
        return false;
    }
}
