using System.Diagnostics;
using System.Globalization;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Runtime.Transport.SharedMemory;

/// <summary>
/// Where a cluster's region files live and the rule for stale ones. A region file is
/// <c>{directory}/leasehold-{cluster}-w{node}-i{incarnation}.region</c>, by default in /dev/shm (tmpfs: memory,
/// sparse, gone at reboot). Each incarnation has its own files, so a fenced incarnation's file is never read
/// by the next one.
/// </summary>
public static class ShmRegions
{
    public const string DefaultDirectory = "/dev/shm";
    public const int MaxClusterNameLength = 64;

    public static string FileName(string cluster, RegionKey key)
    {
        CheckClusterName(cluster);
        return $"leasehold-{cluster}-w{key.Node}-i{key.Incarnation}.region";
    }

    public static string PathFor(string directory, string cluster, RegionKey key) => Path.Combine(directory, FileName(cluster, key));

    /// <summary>A cluster name goes into file names: 1 to 64 letters, digits, '.', '_' or '-'.</summary>
    public static void CheckClusterName(string cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        if (cluster.Length is 0 or > MaxClusterNameLength || !cluster.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            throw new ArgumentException($"cluster name '{cluster}' cannot name region files: use 1 to {MaxClusterNameLength} letters, digits, '.', '_' or '-'", nameof(cluster));
    }

    /// <summary>
    /// Removes the cluster's region files that no live process can be using, as a process does at start (a
    /// SIGKILL leaves its files behind): a file is stale if it belongs to one of <paramref name="ownNodes"/>
    /// (this process is starting them, so any earlier file of theirs is dead), or if the process that created it
    /// (the owner pid in its header) no longer runs. Other files are left alone, including a foreign node's file
    /// whose header is not readable yet: its creator may be writing it. The paths removed, in name order.
    /// </summary>
    public static IReadOnlyList<string> RemoveStale(string cluster, IEnumerable<int> ownNodes, string directory = DefaultDirectory)
    {
        CheckClusterName(cluster);
        var own = ownNodes.ToHashSet();
        var removed = new List<string>();
        if (!Directory.Exists(directory)) return removed;
        var prefix = $"leasehold-{cluster}-w";
        var files = Directory.GetFiles(directory, prefix + "*.region");
        Array.Sort(files, StringComparer.Ordinal);
        foreach (var path in files)
        {
            if (ParseKey(Path.GetFileName(path), prefix) is not { } key) continue;
            if (!own.Contains(key.Node) && !OwnerIsDead(path)) continue;
            try
            {
                File.Delete(path);
                removed.Add(path);
            }
            catch (FileNotFoundException)
            {
                // Another process removed it first.
            }
        }
        return removed;
    }

    /// <summary>The key a file name of the cluster encodes, or null if the name only looks like one.</summary>
    private static RegionKey? ParseKey(string name, string prefix)
    {
        const string suffix = ".region";
        if (!name.StartsWith(prefix, StringComparison.Ordinal) || !name.EndsWith(suffix, StringComparison.Ordinal)) return null;
        var middle = name.AsSpan(prefix.Length, name.Length - prefix.Length - suffix.Length);
        int dash = middle.IndexOf("-i", StringComparison.Ordinal);
        if (dash <= 0) return null;
        return int.TryParse(middle[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out int node)
               && int.TryParse(middle[(dash + 2)..], NumberStyles.None, CultureInfo.InvariantCulture, out int incarnation)
            ? new RegionKey(node, incarnation)
            : null;
    }

    private static bool OwnerIsDead(string path)
    {
        RegionFileHeader? header;
        try
        {
            header = RegionFileHeader.ReadFile(path);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        if (header is not { Magic: RegionFileLayout.Magic } h) return false;
        return !IsRunning(h.OwnerPid);
    }

    internal static bool IsRunning(int pid)
    {
        if (pid <= 0) return false;
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
