using System.Net;
using System.Net.Sockets;

namespace Leasehold.Runtime.Transport.Membership;

/// <summary>
/// Where a process listens for its peers: <c>tcp://host:port</c> between hosts, or <c>unix:/path/to.sock</c>
/// (the shared-memory transport's message links) on one host.
/// </summary>
public readonly record struct LinkAddress
{
    private LinkAddress(string text, string host, int port, string? socketPath)
    {
        Text = text;
        Host = host;
        Port = port;
        SocketPath = socketPath;
    }

    /// <summary>The address as written.</summary>
    public string Text { get; }
    public string Host { get; }
    public int Port { get; }
    /// <summary>The Unix domain socket's path, or null for a TCP address.</summary>
    public string? SocketPath { get; }
    public bool IsUnix => SocketPath is not null;

    /// <summary>
    /// The socket address. A host name is resolved here (IPv4 first), since a socket is created for one address
    /// family; a name that does not resolve throws a <see cref="SocketException"/> naming it.
    /// </summary>
    public EndPoint ToEndPoint()
    {
        if (SocketPath is { } path) return new UnixDomainSocketEndPoint(path);
        if (IPAddress.TryParse(Host, out var ip)) return new IPEndPoint(ip, Port);
        IPAddress[] resolved;
        try { resolved = Dns.GetHostAddresses(Host); }
        catch (SocketException e) { throw new SocketException((int)e.SocketErrorCode, $"the host name '{Host}' of {Text} does not resolve: {e.Message}"); }
        var chosen = resolved.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? resolved.FirstOrDefault()
            ?? throw new SocketException((int)SocketError.HostNotFound, $"the host name '{Host}' of {Text} has no address");
        return new IPEndPoint(chosen, Port);
    }

    public static LinkAddress Parse(string text) =>
        TryParse(text, out var address, out var error) ? address : throw new FormatException(error);

    public static bool TryParse(string? text, out LinkAddress address, out string error)
    {
        address = default;
        error = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "an address is empty; write tcp://host:port or unix:/path/to.sock";
            return false;
        }
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = text["unix:".Length..];
            if (path.Length == 0 || path[0] != '/')
            {
                error = $"'{text}': a Unix socket address needs an absolute path, as in unix:/tmp/leasehold/worker-0.sock";
                return false;
            }
            address = new LinkAddress(text, "", 0, path);
            return true;
        }
        if (!text.StartsWith("tcp://", StringComparison.Ordinal))
        {
            error = $"'{text}' is not an address; write tcp://host:port or unix:/path/to.sock";
            return false;
        }
        var rest = text["tcp://".Length..];
        int colon = rest.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(rest[(colon + 1)..], out int port) || port is < 1 or > 65535)
        {
            error = $"'{text}' needs a host and a port from 1 to 65535, as in tcp://127.0.0.1:7101";
            return false;
        }
        var host = rest[..colon].Trim('[', ']');
        address = new LinkAddress(text, host, port, null);
        return true;
    }

    public override string ToString() => Text;
}
