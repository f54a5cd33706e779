using System.CommandLine;

namespace Leasehold.Cli.Bench;

/// <summary>
/// A flag the chosen mode, workload or loop would ignore is a usage error: a run that quietly drops `--theta` or
/// `--batch-size` reports figures the user believes it measured under them.
/// </summary>
internal static class IgnoredFlags
{
    /// <param name="rules">each flag, whether this run uses it, and what it applies to (for the message)</param>
    public static string? Find(ParseResult parse, params (Option Flag, bool Used, string AppliesTo)[] rules)
    {
        foreach (var (flag, used, appliesTo) in rules)
            if (!used && parse.GetResult(flag) is { Implicit: false })
                return $"{flag.Name} applies only to {appliesTo}; this run would ignore it";
        return null;
    }
}
