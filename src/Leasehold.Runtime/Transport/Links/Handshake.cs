using System.Security.Cryptography;
using System.Text;

namespace Leasehold.Runtime.Transport.Links;

/// <summary>
/// The mutual challenge-response that opens every connection, before any codec frame. The dialer names the
/// cluster and itself and sends a fresh nonce; the acceptor answers with its name, its own nonce and an
/// HMAC-SHA256 (keyed by the cluster key) over both nonces and both names, proving it holds the key; the dialer
/// answers with its own HMAC over the same, and the acceptor closes with one verdict byte. Every length read is
/// bounded before anything is allocated; MACs are compared in constant time.
/// <code>
/// hello     dialer → acceptor: "LHLK" u8 version, u8 n + cluster (ASCII), u8 n + dialer name (UTF-8), 32 B nonce
/// challenge acceptor → dialer: "LHLK" u8 version, u8 n + acceptor name (UTF-8), 32 B nonce, 32 B mac("acceptor")
/// proof     dialer → acceptor: 32 B mac("dialer")
/// verdict   acceptor → dialer: u8 1 (accepted); a refusal closes the connection instead
/// </code>
/// </summary>
internal static class Handshake
{
    public const byte Version = 1;
    public const int NonceBytes = 32;
    public const int MacBytes = 32;
    private static ReadOnlySpan<byte> Magic => "LHLK"u8;
    private const byte Accepted = 1;

    /// <summary>The dialer's side; returns once the acceptor proved the key and accepted us.</summary>
    public static async Task DialAsync(Stream stream, byte[] key, string cluster, string self, string expectedPeer, CancellationToken cancel)
    {
        var dialerNonce = RandomNumberGenerator.GetBytes(NonceBytes);
        var hello = new List<byte>(128);
        hello.AddRange(Magic);
        hello.Add(Version);
        AddName(hello, cluster);
        AddName(hello, self);
        hello.AddRange(dialerNonce);
        await stream.WriteAsync(hello.ToArray(), cancel).ConfigureAwait(false);
        await stream.FlushAsync(cancel).ConfigureAwait(false);

        await ReadPreambleAsync(stream, cancel).ConfigureAwait(false);
        var acceptor = await ReadNameAsync(stream, "acceptor name", cancel).ConfigureAwait(false);
        if (acceptor != expectedPeer) throw new HandshakeRefusedException($"dialed '{expectedPeer}' but '{acceptor}' answered");
        var acceptorNonce = await ReadExactlyAsync(stream, NonceBytes, cancel).ConfigureAwait(false);
        var acceptorMac = await ReadExactlyAsync(stream, MacBytes, cancel).ConfigureAwait(false);
        if (!CryptographicOperations.FixedTimeEquals(acceptorMac, Mac(key, "acceptor", cluster, self, acceptor, dialerNonce, acceptorNonce)))
            throw new HandshakeRefusedException($"'{acceptor}' did not prove the cluster key");
        await stream.WriteAsync(Mac(key, "dialer", cluster, self, acceptor, dialerNonce, acceptorNonce), cancel).ConfigureAwait(false);
        await stream.FlushAsync(cancel).ConfigureAwait(false);
        var verdict = await ReadExactlyAsync(stream, 1, cancel, "the verdict: the peer refused us (see its log)").ConfigureAwait(false);
        if (verdict[0] != Accepted) throw new HandshakeRefusedException($"'{acceptor}' answered {verdict[0]} instead of accepting");
    }

    /// <summary>
    /// The acceptor's side up to the verdict; returns the dialer's process name once it proved the key (the caller then sends <see cref="AcceptedAsync"/> or closes). <paramref name="admit"/>
    /// checks the name before any proof is asked (an unknown process is refused at once); it returns null to
    /// admit, or the reason to refuse.
    /// </summary>
    public static async Task<string> AcceptAsync(Stream stream, byte[] key, string cluster, string self, Func<string, string?> admit, CancellationToken cancel)
    {
        await ReadPreambleAsync(stream, cancel).ConfigureAwait(false);
        var theirCluster = await ReadNameAsync(stream, "cluster name", cancel).ConfigureAwait(false);
        if (theirCluster != cluster) throw new HandshakeRefusedException($"a process of cluster '{Printable(theirCluster)}' dialed cluster '{cluster}'");
        var dialer = await ReadNameAsync(stream, "process name", cancel).ConfigureAwait(false);
        if (admit(dialer) is { } refusal) throw new HandshakeRefusedException(refusal);
        var dialerNonce = await ReadExactlyAsync(stream, NonceBytes, cancel).ConfigureAwait(false);

        var acceptorNonce = RandomNumberGenerator.GetBytes(NonceBytes);
        var challenge = new List<byte>(128);
        challenge.AddRange(Magic);
        challenge.Add(Version);
        AddName(challenge, self);
        challenge.AddRange(acceptorNonce);
        challenge.AddRange(Mac(key, "acceptor", cluster, dialer, self, dialerNonce, acceptorNonce));
        await stream.WriteAsync(challenge.ToArray(), cancel).ConfigureAwait(false);
        await stream.FlushAsync(cancel).ConfigureAwait(false);

        var proof = await ReadExactlyAsync(stream, MacBytes, cancel, "the proof: the dialer gave up (it may not hold the key)").ConfigureAwait(false);
        if (!CryptographicOperations.FixedTimeEquals(proof, Mac(key, "dialer", cluster, dialer, self, dialerNonce, acceptorNonce)))
            throw new HandshakeRefusedException($"'{Printable(dialer)}' did not prove the cluster key");
        return dialer;
    }

    /// <summary>The acceptor's verdict, once the caller attached the connection: the dialer may now send frames.</summary>
    public static async Task AcceptedAsync(Stream stream, CancellationToken cancel)
    {
        await stream.WriteAsync(new[] { Accepted }, cancel).ConfigureAwait(false);
        await stream.FlushAsync(cancel).ConfigureAwait(false);
    }

    private static byte[] Mac(byte[] key, string role, string cluster, string dialer, string acceptor, byte[] dialerNonce, byte[] acceptorNonce)
    {
        var input = new List<byte>(256);
        input.AddRange("leasehold-link-v1"u8);
        foreach (var part in new[] { role, cluster, dialer, acceptor }) AddName(input, part);
        input.AddRange(dialerNonce);
        input.AddRange(acceptorNonce);
        return HMACSHA256.HashData(key, input.ToArray());
    }

    private static void AddName(List<byte> into, string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        if (bytes.Length > byte.MaxValue) throw new ArgumentException($"'{name}' is longer than {byte.MaxValue} UTF-8 bytes", nameof(name));
        into.Add((byte)bytes.Length);
        into.AddRange(bytes);
    }

    private static async Task ReadPreambleAsync(Stream stream, CancellationToken cancel)
    {
        var preamble = await ReadExactlyAsync(stream, Magic.Length + 1, cancel).ConfigureAwait(false);
        if (!preamble.AsSpan(0, Magic.Length).SequenceEqual(Magic)) throw new HandshakeRefusedException($"not a Leasehold link: it starts 0x{Convert.ToHexString(preamble, 0, Magic.Length)}");
        if (preamble[^1] != Version) throw new HandshakeRefusedException($"link handshake version {preamble[^1]}; this build speaks {Version}");
    }

    /// <summary>A one-byte length then that many bytes of UTF-8: at most 255 bytes, so nothing large is ever allocated.</summary>
    private static async Task<string> ReadNameAsync(Stream stream, string what, CancellationToken cancel)
    {
        var length = await ReadExactlyAsync(stream, 1, cancel).ConfigureAwait(false);
        if (length[0] == 0) throw new HandshakeRefusedException($"an empty {what}");
        var bytes = await ReadExactlyAsync(stream, length[0], cancel).ConfigureAwait(false);
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
        catch (DecoderFallbackException) { throw new HandshakeRefusedException($"the {what} is not UTF-8"); }
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int count, CancellationToken cancel, string? onEnd = null)
    {
        var buffer = new byte[count];
        try { await stream.ReadExactlyAsync(buffer, cancel).ConfigureAwait(false); }
        catch (EndOfStreamException) { throw new HandshakeRefusedException($"the connection closed during the handshake{(onEnd is null ? "" : $", waiting for {onEnd}")}"); }
        return buffer;
    }

    private static string Printable(string name) => name.Length <= 64 && name.All(c => !char.IsControl(c)) ? name : $"{new string(name.Take(64).Where(c => !char.IsControl(c)).ToArray())}…";
}

/// <summary>A handshake that failed on the other side's account: no key, another cluster, an unknown process, not our protocol.</summary>
public sealed class HandshakeRefusedException(string reason) : Exception(reason);
