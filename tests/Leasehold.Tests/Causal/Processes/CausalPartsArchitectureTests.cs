using System.Reflection;
using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Workflows;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Hosting.Causal;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Workloads.Causal;

namespace Leasehold.Tests.Causal.Processes;

/// <summary>
/// A server part holds no reference to the client part and the client part none to a server part, so each can live
/// in its own process. Checked on live objects after a run: every field reachable from one part, stopping at the
/// process's infrastructure (its transport and endpoints, which reach every node registered there, and its
/// scheduler and mailboxes), must not lead to the other part's objects. And no causal type keeps static mutable
/// state, which two parts of one process would share and two processes would not.
/// </summary>
public class CausalPartsArchitectureTests
{
    /// <summary>Shared by every node of a process, as the process's threads and sockets are: the walk stops there.</summary>
    private static readonly Type[] Infrastructure = [typeof(ITransport), typeof(Endpoint), typeof(IScheduler), typeof(Mailbox), typeof(TimeProvider)];

    private static readonly Type[] ClientOwned = [typeof(CausalClientHost), typeof(CausalWorkflowEngine), typeof(WorkflowRun), typeof(CausalCluster)];
    private static readonly Type[] ServerOwned = [typeof(CausalServerHost), typeof(ICacheServer), typeof(CausalServerNode), typeof(ServerCpu), typeof(CausalCluster)];

    /// <summary>Every object of a forbidden type reachable from <paramref name="root"/>, named by its path.</summary>
    private static List<string> Reachable(object root, Type[] forbidden)
    {
        var found = new List<string>();
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var work = new Stack<(object Value, string Path)>();
        work.Push((root, root.GetType().Name));
        while (work.TryPop(out var item))
        {
            var (value, path) = item;
            var type = value.GetType();
            if (type.IsPrimitive || type.IsEnum || value is string || value is Type || value is Pointer) continue;
            if (!type.IsValueType && !seen.Add(value)) continue;
            if (forbidden.FirstOrDefault(t => t.IsAssignableFrom(type)) is not null)
            {
                found.Add($"{path} is a {type.Name}");
                continue;
            }
            if (Infrastructure.Any(t => t.IsAssignableFrom(type))) continue;
            if (value is Array array)
            {
                if (type.GetElementType()!.IsPrimitive) continue;
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
                    if (!field.FieldType.IsPointer && field.GetValue(value) is { } child) work.Push((child, $"{path}.{field.Name}"));
        }
        return found;
    }

    private static CausalParts RunParts()
    {
        var workload = new CausalMicroWorkload(keys: 8, theta: 0.8);
        var parts = new CausalParts(1, new CausalOptions { Servers = 3, LinkLatency = TimeSpan.FromMicroseconds(20) }, () => [new CausalMicroWorkload(keys: 8, theta: 0.8).Workflow]);
        parts.Run(processes: 4, workflows: 40, r => (CausalMicroWorkload.Name, workload.Next(r)), checkEveryStep: false);
        return parts;
    }

    [Fact]
    public void A_server_part_reaches_nothing_of_the_client_part()
    {
        var parts = RunParts();
        foreach (var server in parts.Servers)
        {
            var found = Reachable(server, ClientOwned);
            Assert.True(found.Count == 0, string.Join("\n", found.Take(5)));
        }
    }

    [Fact]
    public void The_client_part_reaches_nothing_of_a_server_part()
    {
        var parts = RunParts();
        var found = Reachable(parts.Client, ServerOwned);
        Assert.True(found.Count == 0, string.Join("\n", found.Take(5)));
    }

    [Fact]
    public void A_server_part_reaches_none_of_another_server_parts_servers()
    {
        var parts = RunParts();
        var others = parts.Servers[1].CacheServers.Concat(parts.Servers[2].CacheServers).ToHashSet<object>(ReferenceEqualityComparer.Instance);
        var reached = new List<string>();
        Walk(parts.Servers[0], o => { if (others.Contains(o)) reached.Add($"server {((CacheServer)o).Id}"); });
        Assert.True(others.Count == 2, "the walk would look for nothing");
        Assert.Empty(reached);
    }

    private static void Walk(object root, Action<object> visit)
    {
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var work = new Stack<object>([root]);
        while (work.TryPop(out var value))
        {
            var type = value.GetType();
            if (type.IsPrimitive || type.IsEnum || value is string || value is Type || value is Pointer || !seen.Add(value)) continue;
            visit(value);
            if (Infrastructure.Any(t => t.IsAssignableFrom(type))) continue;
            if (value is Array array)
            {
                foreach (var element in array)
                    if (element is not null) work.Push(element);
                continue;
            }
            for (var t = type; t is not null; t = t.BaseType)
                foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                    if (!field.FieldType.IsPointer && field.GetValue(value) is { } child) work.Push(child);
        }
    }

    /// <summary>The walk is not vacuous: the one-process cluster holds both parts, and it finds them.</summary>
    [Fact]
    public void The_walk_finds_both_parts_inside_the_one_process_cluster()
    {
        var cluster = new CausalCluster(new CausalOptions { Servers = 2 }, new DeterministicScheduler(1));
        Assert.Contains(Reachable(cluster, [typeof(CausalWorkflowEngine)]), p => p.Contains("CausalWorkflowEngine", StringComparison.Ordinal));
        Assert.Contains(Reachable(cluster, [typeof(CausalServerNode)]), p => p.Contains("CausalServerNode", StringComparison.Ordinal));
    }

    /// <summary>
    /// Static state is shared by every part of a process and by none across processes: none may be protocol state. The one
    /// mutable static is the count ClusterIdentity mixes into a drawn id (so two clusters of one process differ).
    /// </summary>
    [Fact]
    public void No_causal_type_keeps_mutable_static_state_but_the_identity_draws_count()
    {
        string[] allowed = ["ClusterIdentity._instances"];
        var namespaces = new[] { "Leasehold.Runtime.Causal", "Leasehold.Runtime.Hosting.Causal" };
        var found = typeof(CausalCluster).Assembly.GetTypes()
            .Where(t => t.Namespace is { } ns && namespaces.Any(n => ns == n || ns.StartsWith(n + ".", StringComparison.Ordinal)))
            .Where(t => !t.Name.Contains('<', StringComparison.Ordinal)) // the compiler's lambda caches
            .SelectMany(t => t.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                .Where(f => !f.IsLiteral && !f.IsInitOnly && !f.Name.Contains('<', StringComparison.Ordinal))
                .Select(f => $"{t.Name}.{f.Name}"))
            .Except(allowed)
            .ToList();
        Assert.True(found.Count == 0, "mutable static fields: " + string.Join(", ", found));
    }
}
