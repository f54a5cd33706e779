using System.Reflection;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Transport;

namespace Leasehold.Tests.Architecture;

/// <summary>
/// Nothing is shared between nodes: what crosses is a message, and a message is data. A delegate, a mailbox,
/// a node or a workflow's live state inside a message would work in one process and nowhere else; so would a
/// node that keeps references to its peers. The serialising transport proves the same at run time; this
/// catches it at build time, for every message type, the causal ones included.
/// </summary>
public class NothingSharedTests
{
    private static readonly Assembly Runtime = typeof(SerializableCluster).Assembly;
    private const BindingFlags Fields = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance;

    /// <summary>Leaves a message may hold: values that mean the same in any process.</summary>
    private static readonly HashSet<Type> Data =
    [
        typeof(string), typeof(DateTimeOffset), typeof(TimeSpan), typeof(StateKey), typeof(NodeId), typeof(Incarnation),
        // An immutable map from names to longs, strings and byte arrays (its values are typed object).
        typeof(Args),
    ];

    public static TheoryData<string> MessageTypes()
    {
        var data = new TheoryData<string>();
        foreach (var t in Runtime.GetTypes().Where(t => t.IsSubclassOf(typeof(Message)) && !t.IsAbstract).OrderBy(t => t.FullName))
            data.Add(t.FullName!);
        return data;
    }

    [Theory]
    [MemberData(nameof(MessageTypes))]
    public void A_message_holds_only_data(string messageType)
    {
        var problems = new List<string>();
        Check(Runtime.GetType(messageType)!, messageType, problems, []);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void The_check_catches_a_message_that_carries_a_delegate_or_a_node()
    {
        var problems = new List<string>();
        Check(typeof(CarriesACallback), nameof(CarriesACallback), problems, []);
        Check(typeof(CarriesAMailbox), nameof(CarriesAMailbox), problems, []);
        Assert.Equal(2, problems.Count);
    }

    [Fact]
    public void The_theory_above_sees_the_message_types()
    {
        // A theory with no rows passes: make sure the scan finds at least the serializable protocol's ten.
        Assert.True(Runtime.GetTypes().Count(t => t.IsSubclassOf(typeof(Message)) && !t.IsAbstract) >= 10, "fewer message types than the serializable protocol alone has");
    }

    /// <summary>Worker and driver types keep no reference to another node: peers are indexes, sends go through an endpoint.</summary>
    [Fact]
    public void No_node_of_the_serializable_cluster_holds_another_node()
    {
        // A worker may hold its own engine (a protocol holds its ClusterWorker); a collection of nodes is peers, and
        // a driver in a worker (or the closure-sending Network) is a call into another node's object.
        var peers = new[] { "ClusterWorker", "ClusterDriver", "IWorkerProtocol", "LeaseProtocol", "NoCCProtocol" };
        var offenders = Runtime.GetTypes()
            // Recovery is the host: it starts an incarnation's nodes and reads their counters, as a launcher holds its processes.
            .Where(t => t.Namespace is { } ns && ns.StartsWith("Leasehold.Runtime.Serializable", StringComparison.Ordinal) && !ns.EndsWith(".Recovery", StringComparison.Ordinal))
            .SelectMany(t => t.GetFields(Fields | BindingFlags.DeclaredOnly).Select(f => (Type: t, Field: f)))
            .Where(x => x.Field.FieldType.Name == "Network"
                || x.Field.FieldType != ElementOf(x.Field.FieldType) && peers.Contains(ElementOf(x.Field.FieldType)!.Name)
                || x.Field.FieldType.Name == "ClusterDriver" && x.Type.Namespace!.Contains(".Worker", StringComparison.Ordinal))
            .Select(x => $"{x.Type.Name}.{x.Field.Name}: {x.Field.FieldType.Name}")
            .ToList();
        Assert.True(offenders.Count == 0, "node references held across nodes: " + string.Join(", ", offenders));
    }

    private static Type? ElementOf(Type t) =>
        t.IsArray ? ElementOf(t.GetElementType()!)
        : t.IsGenericType && typeof(System.Collections.IEnumerable).IsAssignableFrom(t) ? t.GetGenericArguments().Select(ElementOf).FirstOrDefault(e => e is not null)
        : t;

    private static void Check(Type type, string path, List<string> problems, HashSet<Type> seen)
    {
        if (type.IsPrimitive || type.IsEnum || Data.Contains(type) || !seen.Add(type)) return;
        if (Nullable.GetUnderlyingType(type) is { } inner)
        {
            Check(inner, path, problems, seen);
            return;
        }
        if (type.IsArray)
        {
            Check(type.GetElementType()!, path + "[]", problems, seen);
            return;
        }
        if (typeof(Delegate).IsAssignableFrom(type)) problems.Add($"{path}: a delegate ({type.Name}) runs only in the process that made it");
        else if (type == typeof(object) || type.IsInterface || type.IsAbstract && type != typeof(Message)) problems.Add($"{path}: {type.Name} may hold anything");
        else if (type.Namespace is { } ns && ns.StartsWith("Leasehold.Runtime.Scheduling", StringComparison.Ordinal)) problems.Add($"{path}: {type.Name} is a node's own machinery");
        else if (type.IsGenericType) problems.Add($"{path}: {type.Name} (use an array of data)");
        else
            foreach (var f in type.GetFields(Fields))
                if (f.DeclaringType != typeof(Message)) Check(f.FieldType, $"{path}.{f.Name}", problems, seen);
    }

    private sealed record CarriesACallback(Action Done) : Message;
    private sealed record CarriesAMailbox(Leasehold.Runtime.Scheduling.Mailbox ReplyTo) : Message;
}
