using CsCheck;
using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Messages;
using Leasehold.Runtime.Transport;

namespace Leasehold.Tests.Transport;

/// <summary>
/// A generator for every causal message. Each message draws its cluster size first, so its clocks agree in
/// size as a cluster's do; within that, every field ranges over what <see cref="Runtime.Transport.Wire.WireLimits.Default"/> admits.
/// </summary>
internal static class CausalMessageGenerators
{
    private static readonly Gen<string> AnyString = Gen.String[0, 12];
    private static readonly Gen<StateKey> Key = Gen.Select(AnyString, AnyString, (t, k) => new StateKey(t, k));
    private static readonly Gen<byte[]?> Value = Gen.Byte.Array[0, 24].Null();
    private static readonly Gen<int> Servers = Gen.Int[1, 4];
    private static readonly Gen<int> Functions = Gen.Int[1, 5];

    private static Gen<VectorClock> Clock(int n) => Gen.Long[0, 1000].Array[n, n].Select(VectorClock.Of);

    private static Gen<Dictionary<StateKey, T>> Map<T>(Gen<T> values) =>
        Gen.Select(Key, values).Array[0, 3].Select(pairs =>
        {
            var map = new Dictionary<StateKey, T>();
            foreach (var (key, value) in pairs) map.TryAdd(key, value);
            return map;
        });

    /// <summary>A version whose writer clock, when it has one, lies within its clock (as a merge leaves it).</summary>
    private static Gen<CausalVersion> Version(int n) => Gen.Select(Value, Clock(n), Map(Clock(n)), Gen.Bool,
        (value, clock, deps, ownWriter) => new CausalVersion(value, clock, Dependencies.Of(deps), ownWriter ? VectorClock.Of([.. clock.Entries.ToArray().Select(e => e / 2)]) : null));

    private static Gen<KeyedVersion[]> Versions(int n) => Map(Version(n)).Select(map => map.Select(kv => new KeyedVersion(kv.Key, kv.Value)).ToArray());

    private static Gen<SessionData> Session(int n) => Gen.Select(Map(Clock(n)), Versions(n),
        Gen.Select(Clock(n).Null(), Clock(n).Null(), Clock(n).Null()), Map(Gen.Select(Value, Gen.Int[0, 5])).Null(),
        (deps, local, clocks, pending) => new SessionData([.. deps.Select(d => new KeyClock(d.Key, d.Value))], local, clocks.Item1, clocks.Item2,
            pending is null ? null : [.. pending.Select(p => new PendingWrite(p.Key, p.Value.Item1, p.Value.Item2))], clocks.Item3));

    private static readonly Gen<CausalOp> Op = Gen.Select(Gen.Bool, Key, Value, Gen.Bool, (write, key, value, initial) => new CausalOp(write, key, value, initial));

    private static Gen<FunctionRecordData?> Record(int n) => Gen.Select(Gen.Select(Gen.Long, Gen.Long, Gen.Long, Gen.Int[0, 1023]), Gen.Int[0, 1023].Array[0, 3],
        Gen.Bool, Gen.Int[0, n - 1], Op.Array[0, 4], Gen.Bool,
        (ids, parents, ok, server, ops, transaction) => new FunctionRecordData(ids.Item1, ids.Item2, ids.Item3, ids.Item4, parents, ok, server, ops, transaction)).Null();

    private static Gen<FunctionCall> Call(int n, int functions) => Gen.Select(
        Gen.Select(Gen.Long, AnyString, Gen.Int[0, functions - 1]), WireMessageGenerators.ArgsGen, Gen.Int[0, n - 1].Array[functions, functions],
        Session(n), Value.Array[functions, functions], Gen.Select(Gen.Long, Gen.Long, Gen.Bool),
        (ids, args, placement, session, outputs, process) =>
            new FunctionCall(ids.Item1, ids.Item2, ids.Item3, args, placement, session, outputs, process.Item1, process.Item2, process.Item3));

    /// <summary>Draws the cluster size (and the workflow's size) first, then the message.</summary>
    private static Gen<Message> Sized(Func<int, int, Gen<Message>> message) =>
        Gen.Select(Servers, Functions).SelectMany(sizes => message(sizes.Item1, sizes.Item2));

    public static readonly IReadOnlyDictionary<Type, Gen<Message>> ByType = new Dictionary<Type, Gen<Message>>
    {
        [typeof(StartTransactionMsg)] = Sized((n, f) => Gen.Int[0, 3].SelectMany(others => Gen.Select(Call(n, f), Gen.Int[0, f - 1].Array[others, others],
            Gen.Int[0, n - 1].Array[others, others], Clock(n).Null(), (first, roots, servers, hint) => (Message)new StartTransactionMsg(first, roots, servers, hint)))),
        [typeof(FunctionHopMsg)] = Sized((n, f) => Gen.Select(Call(n, f), Gen.Int[-1, f - 1], (call, parent) => (Message)new FunctionHopMsg(call, parent))),
        [typeof(FunctionSkippedMsg)] = Sized((n, f) => Gen.Select(Gen.Long, AnyString, Gen.Int[0, f - 1], Gen.Int[0, f - 1], Gen.Int[0, n - 1].Array[f, f],
            (run, workflow, function, parent, placement) => (Message)new FunctionSkippedMsg(run, workflow, function, parent, placement))),
        [typeof(FunctionDoneMsg)] = Sized((n, f) => Gen.Select(Gen.Long, Gen.Int[0, 1023], Session(n), Value, Record(n), Gen.Bool,
            (run, function, session, output, record, committed) => (Message)new FunctionDoneMsg(run, function, session, output, record, committed))),
        [typeof(FunctionFailedMsg)] = Sized((n, f) => Gen.Select(Gen.Long, Gen.Int[0, 1023], Session(n), AnyString, Record(n),
            (run, function, session, reason, record) => (Message)new FunctionFailedMsg(run, function, session, reason, record))),
        [typeof(AttemptAbortedMsg)] = Sized((n, f) => Gen.Select(Gen.Long, Clock(n).Null(), (run, hint) => (Message)new AttemptAbortedMsg(run, hint))),
        [typeof(CommitMsg)] = Sized((n, f) => Gen.Select(Gen.Long, Session(n), (run, final) => (Message)new CommitMsg(run, final))),
        [typeof(TransactionCommittedMsg)] = Sized((n, f) => Gen.Select(Gen.Long, Session(n), (run, final) => (Message)new TransactionCommittedMsg(run, final))),
        [typeof(CausalHaltMsg)] = AnyString.Select(reason => (Message)new CausalHaltMsg(reason)),
        [typeof(RingPropagateMsg)] = Sized((n, f) => Gen.Select(Key, Version(n), Gen.Int[0, n - 1], Gen.Int[1, 2], Clock(n), Versions(n).Null(),
            (key, version, head, lap, stable, siblings) => (Message)new RingPropagateMsg(new Propagation(key, version, head, lap, stable, siblings)))),
        [typeof(RingStableMsg)] = Sized((n, f) => Gen.Select(Key, Clock(n), Gen.Int[0, n - 1], Gen.Int[0, n - 1], Clock(n),
            (key, clock, head, tail, stable) => (Message)new RingStableMsg(new StableNotice(key, clock, head, tail, stable)))),
        [typeof(EventualPropagateMsg)] = Sized((n, f) => Gen.Select(Key, Version(n), Gen.Int[0, n - 1], (key, version, head) => (Message)new EventualPropagateMsg(key, version, head))),
    };
}
