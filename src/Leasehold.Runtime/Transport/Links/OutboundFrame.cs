using System.Buffers;

namespace Leasehold.Runtime.Transport.Links;

/// <summary>An encoded frame waiting in a link's queue, in a buffer rented from the shared pool; the writer returns it.</summary>
internal readonly struct OutboundFrame(byte[] buffer, int length)
{
    public byte[] Buffer { get; } = buffer;
    public int Length { get; } = length;
    public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Length);
    public void Return() => ArrayPool<byte>.Shared.Return(Buffer);

    /// <summary>Encodes <paramref name="message"/> (stamped, or a one-sided frame) with <paramref name="linkSequence"/> in its header.</summary>
    public static OutboundFrame Encode(Message message, ulong linkSequence)
    {
        var writer = new Writer();
        try { Wire.WireCodec.Encode(message, writer, linkSequence); }
        catch
        {
            writer.Release();
            throw;
        }
        return new OutboundFrame(writer.Buffer, writer.Written);
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
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(256, 2 * Buffer.Length)));
                Buffer.AsSpan(0, Written).CopyTo(larger);
                Release();
                Buffer = larger;
            }
            return Buffer.AsMemory(Written);
        }

        public void Advance(int count) => Written += count;

        public void Release()
        {
            if (Buffer.Length > 0) ArrayPool<byte>.Shared.Return(Buffer);
            Buffer = [];
        }
    }
}
