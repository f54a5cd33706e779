using System.Reflection;
using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Messages;
using Leasehold.Runtime.Causal.Persistence;
using Leasehold.Runtime.Causal.Workflows;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Tests.Causal;

/// <summary>
/// Nothing is shared between a causal cluster's nodes: every cache server and the client are transport nodes, and
/// what crosses between them is a typed message holding data only — no delegate, and no reference to another
/// node's objects (a server, the client's attempt, a mailbox, the store).
/// </summary>
public class CausalTransportBoundaryTests
{
    private const string T = "t";

    /// <summary>Registers every node through the real transport, watching each message as it is delivered.</summary>
    private sealed class Watching(ITransport inner) : ITransport
    {
        public readonly List<string> Problems = [];
        public readonly HashSet<Type> Kinds = [];

        public Endpoint Register(NodeId node, Incarnation incarnation, Mailbox mailbox, IMessageSink sink) =>
            inner.Register(node, incarnation, mailbox, new Sink(this, node, sink));

        public long Messages => inner.Messages;
        public long StaleRefused => inner.StaleRefused;

        private sealed class Sink(Watching watching, NodeId node, IMessageSink inner) : IMessageSink
        {
            public void Receive(Message message)
            {
                watching.Kinds.Add(message.GetType());
                foreach (var problem in Forbidden(message)) watching.Problems.Add($"{message.GetType().Name} {message.From}->{node}: {problem}");
                inner.Receive(message);
            }
        }
    }

    /// <summary>Types that are a node's own, or behaviour rather than data: none may be reachable from a message.</summary>
    private static readonly Type[] NodeOwned =
    [
        typeof(Delegate), typeof(ICacheServer), typeof(CausalServerNode), typeof(CausalWorkflowEngine), typeof(Mailbox), typeof(IScheduler),
        typeof(Endpoint), typeof(ITransport), typeof(IMessageSink), typeof(CausalStore), typeof(ServerCpu), typeof(WorkflowDefinition), typeof(FunctionDefinition),
    ];

    /// <summary>Walks every field reachable from <paramref name="root"/>; each object of a forbidden type is named with its path.</summary>
    private static List<string> Forbidden(object root)
    {
        var problems = new List<string>();
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var work = new Stack<(object Value, string Path)>();
        work.Push((root, root.GetType().Name));
        while (work.TryPop(out var item))
        {
            var (value, path) = item;
            var type = value.GetType();
            if (type.IsPrimitive || type.IsEnum || value is string || value is Type) continue;
            if (!type.IsValueType && !seen.Add(value)) continue;
            if (NodeOwned.FirstOrDefault(t => t.IsAssignableFrom(type)) is { } owned || IsAttempt(type))
            {
                problems.Add($"{path} is a {type.Name}");
                continue;
            }
            if (value is Array array)
            {
                int i = 0;
                foreach (var element in array)
                {
                    if (element is not null) work.Push((element, $"{path}[{i}]"));
                    i++;
                }
                continue;
            }
            for (var t = type; t is not null; t = t.BaseType)
                foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                    if (field.GetValue(value) is { } child) work.Push((child, $"{path}.{field.Name}"));
        }
        return problems;
    }

    private static bool IsAttempt(Type type)
    {
        for (var t = type; t is not null; t = t.BaseType)
            if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(WorkflowAttempt<>)) return true;
        return false;
    }

    private sealed record Smuggler(Action Callback, byte[] Data) : Message;

    [Fact]
    public void The_walk_finds_a_delegate_inside_a_message()
    {
        var problems = Forbidden(new Smuggler(() => { }, [1]));
        Assert.Contains(problems, p => p.Contains("Callback") && p.Contains("Action"));
    }

    // Plain causal: a fan-in of two branches, and one whose first branch throws (its child is skipped).
    private static WorkflowDefinition Diamond(string name, bool failing) => new WorkflowBuilder(name).WithConsistency(Consistency.Causal)
        .Function("a", f => f.Updates(T, a => "x").Body(ctx =>
        {
            if (failing) throw new InvalidOperationException("no");
            ctx.WriteLong(T, "x", 1);
        }))
        .Function("b", f => f.Updates(T, a => "y").Body(ctx => ctx.WriteLong(T, "y", 2)))
        .Function("join", f => f.After("a", "b").Reads(T, a => "x").Reads(T, a => "y").Body(ctx => Value.FromLong(ctx.ReadLong(T, "x") + ctx.ReadLong(T, "y"))))
        .Build();

    // Transactions: two roots and two sinks (committed by the client's CommitMsg), and a chain (committed at its sink).
    private static WorkflowDefinition TwoSinks() => new WorkflowBuilder("two-sinks").WithConsistency(Consistency.TransactionalCausal)
        .Function("r1", f => f.Reads(T, a => $"k{a.GetLong("k")}").Body(ctx => Value.FromLong(ctx.ReadLong(T, $"k{ctx.Args.GetLong("k")}"))))
        .Function("r2", f => f.Reads(T, a => $"k{(a.GetLong("k") + 1) % 2}").Body(ctx => Value.FromLong(ctx.ReadLong(T, $"k{(ctx.Args.GetLong("k") + 1) % 2}"))))
        .Function("w1", f => f.After("r1", "r2").Updates(T, a => $"k{a.GetLong("k")}").Body(ctx => ctx.WriteLong(T, $"k{ctx.Args.GetLong("k")}", ctx.Args.GetLong("v"))))
        .Function("w2", f => f.After("r1").Updates(T, a => $"k{(a.GetLong("k") + 1) % 2}").Body(ctx => ctx.WriteLong(T, $"k{(ctx.Args.GetLong("k") + 1) % 2}", ctx.Args.GetLong("v"))))
        .Build();

    private static WorkflowDefinition Chain() => new WorkflowBuilder("chain").WithConsistency(Consistency.TransactionalCausal)
        .Function("read", f => f.Reads(T, a => "k0").Body(ctx => Value.FromLong(ctx.ReadLong(T, "k0"))))
        .Function("write", f => f.After("read").Updates(T, a => "k1").Body(ctx => ctx.WriteLong(T, "k1", ctx.Args.GetLong("v"))))
        .Build();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_causal_cluster_sends_only_data_messages_between_nodes(int seed)
    {
        var scheduler = new DeterministicScheduler(seed, timerBias: 0.3);
        Watching? watching = null;
        var options = new CausalOptions
        {
            Servers = 3, Seed = seed, LinkLatency = TimeSpan.FromMicroseconds(20), RingJitter = TimeSpan.FromMicroseconds(300),
            TransactionVersions = 0, CheckInvariants = true,
        };
        var cluster = new CausalCluster(options, scheduler, null, null, inner => watching = new Watching(inner));
        foreach (var w in new[] { Diamond("diamond", failing: false), Diamond("failing", failing: true), TwoSinks(), Chain() }) cluster.Register(w);
        var results = new List<CausalResult>();
        var random = new Random(seed);
        for (int i = 0; i < 300; i++)
        {
            var (workflow, args) = (i % 5) switch
            {
                0 => ("diamond", Args.Empty),
                1 => ("failing", Args.Empty),
                2 or 3 => ("two-sinks", Args.Create().Set("k", random.Next(2)).Set("v", i).Build()),
                _ => ("chain", Args.Create().Set("v", i).Build()),
            };
            var placement = Enumerable.Range(0, workflow is "chain" ? 2 : workflow is "two-sinks" ? 4 : 3).Select(_ => random.Next(3)).ToArray();
            scheduler.After(TimeSpan.FromMicroseconds(random.Next(2_000)), () => cluster.Submit(workflow, args, results.Add, new CausalInvocation { Placement = placement }));
        }
        scheduler.RunToQuiescence();
        Assert.Null(scheduler.Fault);
        Assert.Equal(300, results.Count);
        Assert.True(watching!.Problems.Count == 0, $"seed {seed}: {string.Join("\n", watching.Problems.Take(5))}");
        Assert.Equal(0, cluster.WaitingFanIns);
        // Every kind the CausalMesh runtime sends crossed (the run exercised each path).
        Type[] expected =
        [
            typeof(RingPropagateMsg), typeof(RingStableMsg), typeof(StartTransactionMsg), typeof(FunctionHopMsg), typeof(FunctionSkippedMsg),
            typeof(FunctionDoneMsg), typeof(FunctionFailedMsg), typeof(AttemptAbortedMsg), typeof(CommitMsg), typeof(TransactionCommittedMsg),
        ];
        Assert.Empty(expected.Except(watching.Kinds).Select(t => t.Name));
    }

    [Fact]
    public void The_eventual_controls_ring_sends_only_data_messages()
    {
        var scheduler = new DeterministicScheduler(1);
        Watching? watching = null;
        var cluster = new CausalCluster(new CausalOptions { Servers = 3, Protocol = CausalProtocol.Eventual, LinkLatency = TimeSpan.FromMicroseconds(20) },
            scheduler, null, null, inner => watching = new Watching(inner));
        cluster.Register(Diamond("diamond", failing: false));
        CausalResult? result = null;
        cluster.Submit("diamond", Args.Empty, r => result = r, new CausalInvocation { Placement = [0, 1, 2] });
        scheduler.RunToQuiescence();
        Assert.True(result!.Succeeded, result.Reason);
        Assert.Contains(typeof(EventualPropagateMsg), watching!.Kinds);
        Assert.Empty(watching.Problems);
    }

    private sealed class Silent : IMessageSink
    {
        public void Receive(Message message) { }
    }

    [Theory]
    [InlineData(1, 1, "which had sent it one already")]
    [InlineData(2, 0, "which is not one of its parents")]
    public void A_fan_in_refuses_a_hop_from_a_function_that_is_not_a_waiting_parent(int parent, int repeats, string reason)
    {
        var scheduler = new DeterministicScheduler(1);
        ITransport? transport = null;
        var cluster = new CausalCluster(new CausalOptions { Servers = 3 }, scheduler, null, null, inner => transport = inner);
        cluster.Register(Diamond("diamond", failing: false));
        // A node that is no server sends the join (function 2, parents 0 and 1) hops as a server would.
        var stray = transport!.Register(NodeId.Worker(0), new Incarnation(0), scheduler.CreateMailbox("stray"), new Silent());
        FunctionHopMsg Hop() => new(new FunctionCall(1, "diamond", 2, Args.Empty, [0, 1, 2], SessionData.Of(new CausalSession()), new byte[]?[3], 0, 0, false), parent);
        stray.Mailbox.Post(() =>
        {
            for (int i = 0; i <= repeats; i++) stray.Send(NodeId.CacheServer(2), Hop());
        });
        scheduler.RunToQuiescence();
        Assert.NotNull(scheduler.Fault);
        Assert.Contains(reason, scheduler.Fault!.Message);
        Assert.Contains("'join' of 'diamond'", scheduler.Fault.Message);
    }

    [Fact]
    public void A_transaction_start_whose_roots_and_servers_differ_in_number_is_refused_naming_both()
    {
        var scheduler = new DeterministicScheduler(1);
        ITransport? transport = null;
        var cluster = new CausalCluster(new CausalOptions { Servers = 3 }, scheduler, null, null, inner => transport = inner);
        cluster.Register(TwoSinks());
        var stray = transport!.Register(NodeId.Worker(0), new Incarnation(0), scheduler.CreateMailbox("stray"), new Silent());
        var first = new FunctionCall(1, "two-sinks", 0, Args.Create().Set("k", 0).Set("v", 1).Build(), [0, 1, 2, 0], SessionData.Of(new CausalSession()), new byte[]?[4], 0, 0, false);
        stray.Mailbox.Post(() => stray.Send(NodeId.CacheServer(0), new StartTransactionMsg(first, [1], [], null)));
        scheduler.RunToQuiescence();
        Assert.NotNull(scheduler.Fault);
        Assert.Contains("starts with 1 other roots but names 0 servers", scheduler.Fault!.Message);
    }

    [Fact]
    public void A_session_sent_as_data_arrives_whole_and_the_receivers_copy_is_its_own()
    {
        var k = new StateKey(T, "k");
        var j = new StateKey(T, "j");
        var version = new CausalVersion([7], VectorClock.Of(1, 2), new Dictionary<StateKey, VectorClock> { [j] = VectorClock.Of(1, 0) });
        var sent = new CausalSession { Floor = VectorClock.Of(1, 1), Snapshot = VectorClock.Of(3, 3), Written = VectorClock.Of(0, 2), Pending = new() { [k] = ([9], 2) } };
        sent.Deps[j] = VectorClock.Of(1, 0);
        sent.Local[k] = version;
        var data = SessionData.Of(sent);
        var received = data.ToSession();
        Assert.Equal(sent.Deps, received.Deps);
        Assert.Equal(sent.Local, received.Local);
        Assert.Equal([(k, 2)], received.Pending!.Select(p => (p.Key, p.Value.Function)));
        Assert.Equal(new byte[] { 9 }, received.Pending![k].Value);
        Assert.Equal((sent.Floor, sent.Snapshot, sent.Written), (received.Floor, received.Snapshot, received.Written));
        // The receiver mutates its own session; the data, and so every other receiver's copy, is untouched.
        received.Deps.Clear();
        received.Pending!.Clear();
        Assert.Single(data.ToSession().Deps);
        Assert.Single(data.ToSession().Pending!);
    }
}
