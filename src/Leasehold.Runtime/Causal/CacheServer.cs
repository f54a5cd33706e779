using Leasehold.Runtime.Causal.Messages;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Causal;

/// <summary>
/// One CausalMesh cache server (§2–§5): a vector clock, the C-cache (a causal cut: what it serves) and
/// the I-cache (versions received but not yet visible here), on a ring. Everything runs on its mailbox,
/// so a read, a write, a ring message or an integration is one atomic step. This file holds the client
/// operations; CacheServer.Ring.cs the propagation, integration and stable notices.
/// </summary>
internal sealed partial class CacheServer : ICacheServer
{
    private readonly CausalOptions _options;
    private readonly Func<StateKey, byte[]?> _initial;
    private readonly long[] _gvc;
    private readonly Dictionary<StateKey, CausalVersion> _c = [];
    private readonly Dictionary<StateKey, List<CausalVersion>> _i = [];
    // Without eager integration: per key, the join of the stable notices received and not yet integrated.
    private readonly Dictionary<StateKey, VectorClock> _noticed = [];
    private Endpoint? _endpoint;
    private NodeId _successor;
    private long _ringSent;

    public CacheServer(int id, CausalOptions options, IScheduler scheduler, Func<StateKey, byte[]?> initial)
    {
        Id = id;
        _options = options;
        _initial = initial;
        _gvc = new long[options.Servers];
        Mailbox = scheduler.CreateMailbox($"cache-{id}");
    }

    public int Id { get; }
    public Mailbox Mailbox { get; }
    private int Servers => _gvc.Length;

    /// <summary>The head whose tail this server is: the server after it on the ring.</summary>
    private int HeadOfMyTail => (Id + 1) % Servers;

    /// <summary>This server's node on the transport, and the next server on the ring.</summary>
    public void Connect(Endpoint endpoint, NodeId successor)
    {
        _endpoint = endpoint;
        _successor = successor;
    }

    /// <summary>Ring messages this server sent (a ring of one sends to itself; those count too).</summary>
    public long RingSent => Interlocked.Read(ref _ringSent);

    /// <summary>Sends a ring message to the next server; the link keeps the two-lap argument's FIFO order.</summary>
    private void SendRing(Message message)
    {
        Interlocked.Increment(ref _ringSent);
        _endpoint!.Send(_successor, message);
    }

    public void ReceiveRing(Message message)
    {
        switch (message)
        {
            case RingPropagateMsg m: Receive(m.Propagation); break;
            case RingStableMsg m: ReceiveStable(m.Notice); break;
            default: throw new InvalidOperationException($"server {Id}: {message.GetType().Name} is not a ring message");
        }
    }

    // Views for the invariant checks (tests): read on this server's mailbox, or when the run is quiet.
    public IReadOnlyDictionary<StateKey, CausalVersion> CCache => _c;
    public IReadOnlyDictionary<StateKey, List<CausalVersion>> ICache => _i;
    public VectorClock Clock => VectorClock.Of(_gvc);

    /// <summary>The C-cache version of a key; a key never written here starts at its initial value with clock zero.</summary>
    public CausalVersion Visible(StateKey key) =>
        _c.TryGetValue(key, out var v) ? v : CausalVersion.Initial(_initial(key), Servers);

    /// <summary>
    /// §3's read: integrate the workflow's deps, then answer. A key the workflow wrote is answered from its
    /// own version unless the C-cache holds a write arbitrated after it, which is answered instead (§3's
    /// Decision, corrected: "a C-cache version that strictly dominates ours" both missed writes that are
    /// merely concurrent — two sessions then saw two writes in opposite orders, which the convergence
    /// check caught — and cannot tell a version that contains our write from one whose clock only covers
    /// it). The own version stays in the session either way: until it is visible everywhere, it is what
    /// keeps a later read elsewhere from going back before it.
    /// </summary>
    public CausalVersion Read(CausalSession session, StateKey key)
    {
        CheckLoaded(key);
        Touched(key);
        if (session.IntegratedAt != Id)
        {
            if (_options.CheckInvariants) Invariants.DepsCovered(this, session);
            IntegrateNoticed();
            Integrate(session.Deps);
            session.IntegratedAt = Id;
        }
        if (_options.CheckInvariants) Invariants.DepsIntegrated(this, session);
        var visible = Visible(key);
        if (session.Local.TryGetValue(key, out var mine) && VectorClock.CompareArbitration(visible.Writer, mine.Writer) <= 0) return mine;
        if (_options.CheckInvariants)
        {
            if (session.Deps.TryGetValue(key, out var before) && !before.LessOrEqual(visible.Clock))
                throw new CausalInvariantException($"server {Id}: monotonic reads broken on {key}: read {visible.Clock} after {before}");
            Invariants.VersionCovered(this, key, visible);
        }
        session.AddDep(key, visible.Clock);
        return visible;
    }

    /// <summary>
    /// §3's write, with this server as its head: the clock joins everything the workflow has seen, then
    /// ticks; the write and the workflow's own earlier writes go into the I-cache here; the write is queued
    /// on the ring link before the workflow continues (the two-lap argument needs that order).
    /// </summary>
    public void Write(CausalSession session, StateKey key, byte[]? value)
    {
        foreach (var clock in session.Clocks) JoinClock(clock);
        _gvc[Id]++;
        var version = new CausalVersion(value, VectorClock.Of(_gvc), WriteDeps(session));
        if (_options.CheckInvariants)
            foreach (var clock in session.Clocks)
                if (!clock.LessOrEqual(version.Clock)) throw new CausalInvariantException($"server {Id}: monotonic writes broken: {version.Clock} does not dominate {clock}");
        AddToICache(key, version);
        foreach (var (k, mine) in session.Local) AddToICache(k, mine);
        SendRing(new RingPropagateMsg(new Propagation(key, version, Id, Lap: 1, StableSnapshot())));
        session.Local[key] = version;
        session.NoteWrite(Id, version.Clock);
    }

    private static Dictionary<StateKey, VectorClock> WriteDeps(CausalSession session)
    {
        var deps = new Dictionary<StateKey, VectorClock>(session.Deps);
        foreach (var (k, mine) in session.Local)
            deps[k] = deps.TryGetValue(k, out var read) ? read.Join(mine.Clock) : mine.Clock;
        return deps;
    }

    private void JoinClock(VectorClock clock)
    {
        for (int i = 0; i < _gvc.Length; i++) _gvc[i] = Math.Max(_gvc[i], clock[i]);
    }

    /// <summary>Idempotent: a version is known by its key and clock (the head and lap 2 add it again).</summary>
    private void AddToICache(StateKey key, CausalVersion version)
    {
        if (_options.UnsafeDropDominatedVersions && _c.TryGetValue(key, out var visible) && version.Clock.LessOrEqual(visible.Clock)) return;
        if (!_i.TryGetValue(key, out var versions)) _i[key] = versions = [];
        foreach (var v in versions)
            if (v.Clock.Equals(version.Clock)) return;
        versions.Add(version);
    }
}

/// <summary>A §7 invariant broke: the run is void, and the seed replays it.</summary>
public sealed class CausalInvariantException(string message) : Exception(message);
