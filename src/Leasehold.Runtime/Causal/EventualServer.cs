using Leasehold.Runtime.Causal.Messages;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Causal;

/// <summary>
/// The negative control for the causal checker: a write is applied here at once and sent one lap around the
/// ring, each server applying it on arrival; a read returns whatever this server has. No dependencies,
/// no integration, no read-your-writes across servers — eventually consistent, and the causal checker
/// must catch it. Concurrent writes still converge (the same clock merge), so only causality breaks.
/// </summary>
internal sealed class EventualServer : ICacheServer
{
    private readonly Func<StateKey, byte[]?> _initial;
    private readonly long[] _clock;
    private readonly Dictionary<StateKey, CausalVersion> _c = [];
    private Endpoint? _endpoint;
    private NodeId _successor;
    private long _ringSent;

    public EventualServer(int id, int servers, IScheduler scheduler, Func<StateKey, byte[]?> initial)
    {
        Id = id;
        _initial = initial;
        _clock = new long[servers];
        Mailbox = scheduler.CreateMailbox($"eventual-{id}");
    }

    public int Id { get; }
    public Mailbox Mailbox { get; }

    /// <summary>This server's node on the transport, and the next server on the ring.</summary>
    public void Connect(Endpoint endpoint, NodeId successor)
    {
        _endpoint = endpoint;
        _successor = successor;
    }

    public long RingSent => Interlocked.Read(ref _ringSent);

    public void ReceiveRing(Message message)
    {
        if (message is not EventualPropagateMsg m) throw new InvalidOperationException($"server {Id}: {message.GetType().Name} is not a ring message");
        Receive(m.Key, m.Version, m.Head);
    }

    private CausalVersion Visible(StateKey key) => _c.TryGetValue(key, out var v) ? v : CausalVersion.Initial(_initial(key), _clock.Length);

    public CausalVersion Read(CausalSession session, StateKey key) => Visible(key);

    // Transactions get no snapshot and no atomicity here: the control reads whatever it has and applies writes one by one.
    public VectorClock TakeSnapshot(CausalSession session, VectorClock? hint = null) => VectorClock.Zero(_clock.Length);
    public VectorClock? SnapshotHint() => null;
    public CausalVersion ReadInSnapshot(CausalSession session, StateKey key) => Visible(key);

    public void Commit(CausalSession session)
    {
        if (session.Pending is null) return;
        foreach (var (key, write) in session.Pending) Write(session, key, write.Value);
        session.Pending.Clear();
    }

    public void Write(CausalSession session, StateKey key, byte[]? value)
    {
        _clock[Id]++;
        var version = new CausalVersion(value, VectorClock.Of(_clock), new Dictionary<StateKey, VectorClock>());
        Apply(key, version);
        if (_clock.Length > 1) Forward(key, version, Id);
    }

    private void Apply(StateKey key, CausalVersion version)
    {
        for (int i = 0; i < _clock.Length; i++) _clock[i] = Math.Max(_clock[i], version.Clock[i]);
        _c[key] = Visible(key).Merge(version);
    }

    private void Forward(StateKey key, CausalVersion version, int head)
    {
        Interlocked.Increment(ref _ringSent);
        _endpoint!.Send(_successor, new EventualPropagateMsg(key, version, head));
    }

    private void Receive(StateKey key, CausalVersion version, int head)
    {
        if (Id == head) return; // one lap
        Apply(key, version);
        Forward(key, version, head);
    }
}
