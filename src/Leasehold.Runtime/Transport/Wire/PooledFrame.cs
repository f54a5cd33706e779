using System.Buffers;

namespace Leasehold.Runtime.Transport.Wire;

/// <summary>
/// An encoded frame in a buffer rented from <see cref="ArrayPool{T}.Shared"/>, travelling as a message
/// through a transport that carries bytes. The receiver returns the buffer once it decoded the frame; a
/// frame dropped on the way (a stale incarnation) is simply collected.
/// </summary>
internal sealed record PooledFrame : Message
{
    private byte[]? _buffer;
    public int Length { get; }
    private PooledFrame(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    /// <summary>The type of the message encoded, read from the header: what a link may select frames by (the ring's jitter).</summary>
    public Type MessageType => MessageKinds.Find(WireHeader.Read(AsSpan()).Kind)!.Type;

    public ReadOnlySpan<byte> AsSpan() => _buffer is { } buffer ? buffer.AsSpan(0, Length) : throw new InvalidOperationException("a frame read after its buffer was returned");

    public void Return()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer) ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <summary>Encodes <paramref name="message"/> (already stamped) into a rented buffer.</summary>
    public static PooledFrame Encode(Message message)
    {
        var writer = new Writer();
        WireCodec.Encode(message, writer);
        return new PooledFrame(writer.Buffer, writer.Written);
    }

    private sealed class Writer : IBufferWriter<byte>
    {
        public byte[] Buffer = [];
        public int Written;

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            int needed = Written + Math.Max(sizeHint, 1);
            if (needed > Buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 2 * Buffer.Length));
                Buffer.AsSpan(0, Written).CopyTo(larger);
                if (Buffer.Length > 0) ArrayPool<byte>.Shared.Return(Buffer);
                Buffer = larger;
            }
            return Buffer.AsMemory(Written);
        }

        public void Advance(int count) => Written += count;
    }
}
