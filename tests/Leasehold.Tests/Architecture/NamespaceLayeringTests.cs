using System.Reflection;
using Leasehold.Runtime.Hosting;

namespace Leasehold.Tests.Architecture;

/// <summary>
/// The serializable engine's layers: Driver and Worker share only what lies in Serializable itself (the
/// messages of their boundary, which the typed transport will carry), and Recovery, which rebuilds them,
/// sits above both. A type that reaches across (a field, a signature, a base type, a captured local) fails.
/// </summary>
public class NamespaceLayeringTests
{
    private const string Serializable = "Leasehold.Runtime.Serializable";

    [Theory]
    [InlineData(Serializable + ".Driver", Serializable + ".Worker")]
    [InlineData(Serializable + ".Worker", Serializable + ".Driver")]
    [InlineData(Serializable + ".Driver", Serializable + ".Recovery")]
    [InlineData(Serializable + ".Worker", Serializable + ".Recovery")]
    public void A_layer_does_not_use_the_types_of_another(string from, string to)
    {
        var crossings = typeof(SerializableCluster).Assembly.GetTypes()
            .Where(t => IsIn(t, from))
            .SelectMany(t => Uses(t).Where(u => IsIn(u, to)).Select(u => $"{t.Name} -> {u.Name}"))
            .Distinct().Order().ToList();
        Assert.True(crossings.Count == 0, $"{from} uses {to}: {string.Join(", ", crossings)}");
    }

    /// <summary>A layer includes its sub-namespaces (the worker's protocols live in Worker.Lease and Worker.NoCC).</summary>
    private static bool IsIn(Type type, string layer) =>
        type.Namespace is { } ns && (ns == layer || ns.StartsWith(layer + ".", StringComparison.Ordinal));

    /// <summary>The types a type names in its declaration: base types, interfaces, fields (closures' captured locals included), properties and method signatures.</summary>
    private static IEnumerable<Type> Uses(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var named = new List<Type>();
        if (type.BaseType is { } b) named.Add(b);
        named.AddRange(type.GetInterfaces());
        named.AddRange(type.GetFields(all).Select(f => f.FieldType));
        named.AddRange(type.GetProperties(all).Select(p => p.PropertyType));
        foreach (var m in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            if (m is MethodInfo mi) named.Add(mi.ReturnType);
            named.AddRange(m.GetParameters().Select(p => p.ParameterType));
        }
        return named.SelectMany(Unwrap).Concat(type.GetNestedTypes(all).SelectMany(Uses));
    }

    /// <summary>A type and the types inside it: element types, generic arguments, a nested type's declaring type.</summary>
    private static IEnumerable<Type> Unwrap(Type type)
    {
        if (type.HasElementType) return Unwrap(type.GetElementType()!);
        var inside = type.IsGenericType ? type.GetGenericArguments().SelectMany(Unwrap) : [];
        return inside.Append(type).Concat(type.DeclaringType is { } d ? [d] : []);
    }
}
