using System.Net.Sockets;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport.Membership;
using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Runtime.Transport.Links;

/// <summary>
/// The transport of one process of a multi-process cluster, over TCP or Unix domain sockets. Nodes of this
/// process register on it as on <see cref="InprocTransport"/>, and a send between two of them is delivered in
/// process (posted to the receiver's mailbox, as the in-process transport does with no latency). A send to a
/// node of another process is encoded with <see cref="WireCodec"/> and queued on the link to that process
/// (<see cref="PeerLink"/>): one connection per direction per peer, so each link keeps its order.
/// <para>
/// A message frame's link sequence carries its receiver (<see cref="NodeId.Packed"/>): the codec header has no
/// receiver field. The receiver refuses a frame whose sender the authenticated peer does not host, or whose
/// receiver this process does not host, by fencing the link; a message to a local node nobody registered is
/// dropped and counted, and one from another incarnation is refused as stale, both as in process.
/// </para>
/// <para>
/// <b>Link loss.</b> A read or write error, an end of stream or a malformed frame fences the link for good:
/// nothing is retried on a new connection, later sends to that peer are dropped (counted), and
/// <see cref="LinkLost"/> is raised once per peer. The layer above fails its batch on it: a one-sided
/// operation whose completion was lost had an unknown effect.
/// </para>
/// </summary>
public sealed class LinkTransport : ITransport, IAsyncDisposable
{
    private readonly Lock _registering = new();
    private Dictionary<NodeId, Registration> _nodes = []; // copied on write: arrivals read it without a lock
    private readonly Dictionary<string, PeerLink> _peers = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly byte[] _key;
    private Socket? _listener;
    private long _messages, _stale, _undeliverable;
    private string? _lastRefusal;
    private int _disposed;

    public LinkTransport(ClusterMap map, string process, ReadOnlySpan<byte> clusterKey, IScheduler scheduler, LinkOptions? options = null)
    {
        Wire.WireCodec.Prepare(); // before any reader or sender thread: see Prepare
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(scheduler);
        if (clusterKey.Length < 16) throw new ArgumentException($"a cluster key has at least 16 bytes; this one has {clusterKey.Length}", nameof(clusterKey));
        Options = options ?? new LinkOptions();
        Options.Validate();
        Map = map;
        Self = map.Process(process);
        Scheduler = scheduler;
        _key = clusterKey.ToArray();
        foreach (var p in map.Processes)
            if (p.Name != Self.Name) _peers.Add(p.Name, new PeerLink(this, p, Options));
    }

    public ClusterMap Map { get; }
    /// <summary>This process's entry in the map.</summary>
    public ProcessEntry Self { get; }
    public IScheduler Scheduler { get; }
    public LinkOptions Options { get; }
    public LinkCounters Counters { get; } = new();

    /// <summary>Messages sent between distinct nodes, in process or not.</summary>
    public long Messages => Interlocked.Read(ref _messages);
    public long StaleRefused => Interlocked.Read(ref _stale);
    /// <summary>Messages to a local node nobody registered, or to a node no process hosts: dropped.</summary>
    public long Undeliverable => Interlocked.Read(ref _undeliverable);
    /// <summary>Why the last message was refused or dropped.</summary>
    public string? LastRefusal => Volatile.Read(ref _lastRefusal);
    /// <summary>What the links sent, received, refused and dropped, and what each peer's queue holds: for a cluster that stopped answering.</summary>
    public string Describe()
    {
        var peers = _peers.Values.OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => $"{p.Name} {(p.IsFenced ? "fenced" : "up")} ({Interlocked.Read(ref p.MessagesQueued)} messages sent, {Interlocked.Read(ref p.MessagesReceived)} received; "
                + $"{Interlocked.Read(ref p.FramesWritten)} frames written, {Interlocked.Read(ref p.FramesRead)} read; {p.Queue.QueuedBytes} bytes queued, {p.Queue.WaitingSenders} senders waiting)");
        return $"{Counters.MessagesSent} messages sent, {Counters.MessagesReceived} received, {StaleRefused} refused as stale, {Undeliverable} undeliverable, "
            + $"{Counters.SendsDropped} sends dropped{(LastRefusal is { } last ? $" (last refusal: {last})" : "")}; peers: {string.Join(", ", peers)}";
    }

    /// <summary>Times a send found its link's queue full and waited (backpressure).</summary>
    public long SendWaits => _peers.Values.Sum(p => p.Queue.Waits);

    /// <summary>Raised once per peer whose link was fenced: (peer process name, reason). Handlers must be short and must not block.</summary>
    public event Action<string, string>? LinkLost;

    /// <summary>Raised for each connection refused during the handshake, with the reason (it is also counted and logged).</summary>
    public event Action<string>? HandshakeRefused;

    /// <summary>The peers whose links were lost, with the reason, in the map's order.</summary>
    public IReadOnlyList<(string Peer, string Reason)> LostLinks =>
        Map.Processes.Where(p => _peers.TryGetValue(p.Name, out var l) && l.IsFenced).Select(p => (p.Name, _peers[p.Name].FenceReason!)).ToList();

    /// <summary>Whether <paramref name="node"/> lives in this process.</summary>
    public bool IsLocal(NodeId node) => Map.TryProcessOf(node, out var p) && p.Name == Self.Name;

    internal PeerLink Peer(string name) => _peers[name];

    /// <summary>The one-sided layer sharing these links, which serves requests and takes completions in the reader.</summary>
    internal IOneSidedLinkHandler? OneSided { get; set; }

    public Endpoint Register(NodeId node, Incarnation incarnation, Mailbox mailbox, IMessageSink sink)
    {
        if (!IsLocal(node)) throw new InvalidOperationException($"{node} is hosted by {(Map.TryProcessOf(node, out var p) ? $"'{p.Name}'" : "no process")}, not by '{Self.Name}': register it there");
        var registration = new Registration(this, node, incarnation, mailbox, sink);
        lock (_registering)
            Volatile.Write(ref _nodes, new Dictionary<NodeId, Registration>(_nodes) { [node] = registration });
        return registration;
    }

    private void Send(Registration from, NodeId to, Message message)
    {
        message.Stamp(from.Node, from.Incarnation);
        if (to == from.Node)
        {
            Scheduler.Post(from.Mailbox, from.Deliver, message);
            return;
        }
        Interlocked.Increment(ref _messages);
        if (!Map.TryProcessOf(to, out var process))
        {
            Refuse(ref _undeliverable, $"{message.GetType().Name} from {from} to {to}: no process hosts it");
            return;
        }
        if (process.Name == Self.Name)
        {
            Arrive(to, message);
            return;
        }
        var peer = _peers[process.Name];
        if (peer.IsFenced)
        {
            Interlocked.Increment(ref Counters.SendsDroppedValue);
            return;
        }
        var frame = OutboundFrame.Encode(message, (uint)to.Packed);
        if (!peer.Queue.Enqueue(frame)) // fenced while it waited
        {
            frame.Return();
            Interlocked.Increment(ref Counters.SendsDroppedValue);
            return;
        }
        Interlocked.Increment(ref Counters.MessagesSentValue);
        Interlocked.Increment(ref peer.MessagesQueued);
    }

    private void Arrive(NodeId to, Message message)
    {
        if (!Volatile.Read(ref _nodes).TryGetValue(to, out var receiver))
        {
            Refuse(ref _undeliverable, $"{message.GetType().Name} from {message.From}{message.Incarnation} to {to}: no such node");
            return;
        }
        if (receiver.Incarnation != message.Incarnation)
        {
            Refuse(ref _stale, $"{message.GetType().Name} from {message.From}{message.Incarnation} to {to}{receiver.Incarnation}: stale incarnation");
            return;
        }
        Scheduler.Post(receiver.Mailbox, receiver.Deliver, message);
    }

    private void Refuse(ref long counter, string reason)
    {
        Interlocked.Increment(ref counter);
        Volatile.Write(ref _lastRefusal, reason);
    }

    /// <summary>One whole frame read from <paramref name="peer"/>, on its reader; a reason to fence the link, or null.</summary>
    internal string? Receive(PeerLink peer, ReadOnlySpan<byte> frame, ulong linkSequence)
    {
        if (!WireCodec.TryDecode(frame, Options.Limits, out var message, out var refusal)) return $"malformed frame: {refusal}";
        switch (message)
        {
            case ReadRequest or WriteValueThenFlagRequest or WriteValueRequest or WriteFlagRequest or CompareAndSwapFlagRequest or FetchAndAddRequest:
                return OneSided is { } server ? server.Serve(peer, message, linkSequence) : $"a one-sided {message.GetType().Name} reached '{Self.Name}', which serves no regions";
            case SnapshotCompletion or SwappedCompletion or FetchedCompletion or AckCompletion:
                return OneSided is { } requester ? requester.Complete(peer, message, linkSequence) : $"a {message.GetType().Name} reached '{Self.Name}', which issued no one-sided operations";
        }
        if (!Map.TryProcessOf(message.From, out var sender) || sender.Name != peer.Name)
            return $"impersonation: '{peer.Name}' sent a {message.GetType().Name} as {message.From}, which it does not host";
        if (linkSequence > uint.MaxValue || !NodeId.TryUnpack((int)linkSequence, out var to) || !IsLocal(to))
            return $"misrouted: '{peer.Name}' sent a {message.GetType().Name} for {(linkSequence <= uint.MaxValue && NodeId.TryUnpack((int)linkSequence, out var n) ? n.ToString() : $"0x{linkSequence:X}")}, which '{Self.Name}' does not host";
        Interlocked.Increment(ref Counters.MessagesReceivedValue);
        Interlocked.Increment(ref peer.MessagesReceived);
        Arrive(to, message);
        return null;
    }

    internal void OnLinkLost(PeerLink peer, string reason)
    {
        if (Volatile.Read(ref _disposed) != 0) return;
        Options.Log?.Invoke($"link from '{Self.Name}' to '{peer.Name}' lost: {reason}");
        OneSided?.LinkLost(peer);
        LinkLost?.Invoke(peer.Name, reason);
    }

    /// <summary>
    /// Listens on this process's address and dials every peer, retrying with backoff (processes start in any
    /// order) until <see cref="LinkOptions.StartDeadline"/>. Completes when every link is authenticated both
    /// ways; fails with <see cref="LinkStartException"/> naming each peer not reached.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _listener = Listen(Self.Address);
        _ = Task.Run(AcceptLoopAsync);
        var deadline = Scheduler.Time.GetUtcNow() + Options.StartDeadline;
        foreach (var peer in _peers.Values) _ = Task.Run(() => DialAsync(peer, deadline));
        var all = Task.WhenAll(_peers.Values.Select(p => p.Ready));
        try { await all.WaitAsync(Options.StartDeadline, Scheduler.Time, cancellation).ConfigureAwait(false); }
        catch (Exception e) when (e is TimeoutException or LinkStartException)
        {
            var missing = Map.Processes.Where(p => _peers.TryGetValue(p.Name, out var l) && !(l.OutboundUp && l.InboundUp && !l.IsFenced)).Select(p => Describe(_peers[p.Name]));
            throw new LinkStartException($"'{Self.Name}' could not link every peer within {Options.StartDeadline.TotalSeconds:0.#} s: {string.Join("; ", missing)}");
        }
    }

    private static string Describe(PeerLink peer)
    {
        if (peer.IsFenced) return $"'{peer.Name}': link lost ({peer.FenceReason})";
        var missing = new List<string>();
        if (!peer.OutboundUp) missing.Add($"not dialed at {peer.Process.Address}{(peer.LastDialError is { } e ? $" ({e})" : "")}");
        if (!peer.InboundUp) missing.Add("it never dialed us");
        return $"'{peer.Name}': {string.Join(", ", missing)}";
    }

    private static Socket Listen(LinkAddress address)
    {
        if (address.SocketPath is { } path)
        {
            RemoveStaleSocket(path);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }
        var endpoint = address.ToEndPoint();
        var socket = address.IsUnix ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) : new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endpoint);
            socket.Listen(128);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new LinkStartException($"cannot listen on {address}: {e.Message}");
        }
    }

    /// <summary>A socket file left by a killed process is removed; one a live process listens on is not ours to take.</summary>
    private static void RemoveStaleSocket(string path)
    {
        if (!File.Exists(path)) return;
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new LinkStartException($"another process listens on unix:{path}");
            }
            catch (SocketException) { } // nobody listens: stale
        }
        File.Delete(path);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await _listener!.AcceptAsync(_stopping.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            _ = Task.Run(() => AcceptOneAsync(socket));
        }
    }

    private async Task AcceptOneAsync(Socket socket)
    {
        if (!Self.Address.IsUnix) socket.NoDelay = true;
        var stream = new NetworkStream(socket, ownsSocket: true);
        using var deadline = new CancellationTokenSource(Options.HandshakeTimeout, Scheduler.Time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, deadline.Token);
        string reason;
        try
        {
            var dialer = await Handshake.AcceptAsync(stream, _key, Map.Cluster, Self.Name, Admit, timeout.Token).ConfigureAwait(false);
            var peer = _peers[dialer];
            if (peer.TryReserveInbound(socket))
            {
                await Handshake.AcceptedAsync(stream, timeout.Token).ConfigureAwait(false);
                peer.StartReading(stream);
                return;
            }
            reason = peer.InboundRefusal() ?? $"'{dialer}' could not attach";
        }
        catch (HandshakeRefusedException e) { reason = e.Message; }
        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested) { reason = $"the handshake took longer than {Options.HandshakeTimeout.TotalSeconds:0.#} s"; }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException) { reason = $"the connection failed during the handshake: {e.Message}"; }
        await stream.DisposeAsync().ConfigureAwait(false);
        if (!_stopping.IsCancellationRequested) RefuseHandshake($"'{Self.Name}' refused a connection: {reason}");
    }

    private string? Admit(string dialer)
    {
        if (dialer == Self.Name) return $"a process named '{dialer}' (this process's own name) dialed in";
        if (!_peers.TryGetValue(dialer, out var peer)) return $"'{dialer}' is not a process of cluster '{Map.Cluster}'";
        return peer.InboundRefusal();
    }

    private void RefuseHandshake(string reason)
    {
        Counters.RefusedHandshake(reason);
        Options.Log?.Invoke(reason);
        HandshakeRefused?.Invoke(reason);
    }

    private async Task DialAsync(PeerLink peer, DateTimeOffset deadline)
    {
        var backoff = Options.FirstDialBackoff;
        while (!_stopping.IsCancellationRequested && !peer.IsFenced)
        {
            var address = peer.Process.Address;
            var socket = address.IsUnix ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) : new Socket(SocketType.Stream, ProtocolType.Tcp);
            NetworkStream? stream = null;
            using var handshakeDeadline = new CancellationTokenSource(Options.HandshakeTimeout, Scheduler.Time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, handshakeDeadline.Token);
            try
            {
                if (!address.IsUnix) socket.NoDelay = true;
                await socket.ConnectAsync(address.ToEndPoint(), timeout.Token).ConfigureAwait(false);
                stream = new NetworkStream(socket, ownsSocket: true);
                await Handshake.DialAsync(stream, _key, Map.Cluster, Self.Name, peer.Name, timeout.Token).ConfigureAwait(false);
                if (!peer.StartWriting(socket, stream)) await stream.DisposeAsync().ConfigureAwait(false);
                return;
            }
            catch (HandshakeRefusedException e)
            {
                // Not a peer still starting: a refusal is final, so start fails naming it.
                peer.LastDialError = e.Message;
                RefuseHandshake($"'{Self.Name}' dialing '{peer.Name}': {e.Message}");
                socket.Dispose();
                return;
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                peer.LastDialError = e.Message;
                if (stream is not null) await stream.DisposeAsync().ConfigureAwait(false);
                socket.Dispose();
            }
            if (Scheduler.Time.GetUtcNow() + backoff > deadline) return;
            try { await Task.Delay(backoff, Scheduler.Time, _stopping.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, Options.MaxDialBackoff.Ticks));
        }
    }

    /// <summary>
    /// Waits until every frame queued so far on a link has been handed to its socket, or that link is lost, or
    /// <paramref name="bound"/> has passed (a peer that stopped reading, or a link that never came up); true if
    /// nothing was left unwritten. For a process about to close its links with a last word queued (a refusal, a
    /// shutdown, a report): <see cref="DisposeAsync"/> drops whatever is still queued.
    /// </summary>
    public async Task<bool> FlushAsync(TimeSpan bound)
    {
        var targets = _peers.Values.Select(p => (Peer: p, Queued: p.Queue.Added)).ToList();
        bool Done() => targets.All(t => t.Peer.IsFenced || t.Peer.Written >= t.Queued);
        long start = Scheduler.Time.GetTimestamp();
        while (!Done())
        {
            if (Scheduler.Time.GetElapsedTime(start) >= bound) return false;
            await Task.Delay(TimeSpan.FromMilliseconds(5), Scheduler.Time).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>Closes every link without reporting losses (this process is leaving), and removes its socket file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        foreach (var peer in _peers.Values) peer.Fence($"'{Self.Name}' stopped", report: false);
        if (Self.Address.SocketPath is { } path && _listener is not null)
        {
            try { File.Delete(path); }
            catch (IOException) { }
        }
        _stopping.Dispose();
    }

    private sealed class Registration : Endpoint
    {
        private readonly LinkTransport _transport;
        public readonly Action<object> Deliver;

        public Registration(LinkTransport transport, NodeId node, Incarnation incarnation, Mailbox mailbox, IMessageSink sink)
            : base(node, incarnation, mailbox)
        {
            _transport = transport;
            Deliver = m => sink.Receive((Message)m);
        }

        public override void Send(NodeId to, Message message) => _transport.Send(this, to, message);
    }
}

/// <summary>What the reader hands to the one-sided layer: requests to serve, completions to deliver, and losses.</summary>
internal interface IOneSidedLinkHandler
{
    /// <summary>Serves a request from <paramref name="peer"/> in place and queues its completion; a reason to fence, or null.</summary>
    string? Serve(PeerLink peer, Message request, ulong requestId);

    /// <summary>Delivers a completion to its requester's mailbox; a reason to fence (no such request), or null.</summary>
    string? Complete(PeerLink peer, Message completion, ulong requestId);

    /// <summary>The link to <paramref name="peer"/> is gone: its pending operations will never complete.</summary>
    void LinkLost(PeerLink peer);
}
