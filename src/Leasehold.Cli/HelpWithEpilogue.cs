using System.CommandLine;
using System.CommandLine.Invocation;

namespace Leasehold.Cli;

/// <summary>
/// The standard help, followed by a section of a command's own (the bench's glossary of its summary), since the
/// standard help has no place for text after the options.
/// </summary>
internal sealed class HelpWithEpilogue(SynchronousCommandLineAction help, IReadOnlyDictionary<Command, Func<int, string>> epilogues)
    : SynchronousCommandLineAction
{
    /// <summary>As the standard help's: `check --help` shows the help although the required FILE is missing.</summary>
    public override bool ClearsParseErrors => help.ClearsParseErrors;

    public override int Invoke(ParseResult parse)
    {
        int exit = help.Invoke(parse);
        if (epilogues.TryGetValue(parse.CommandResult.Command, out var epilogue))
        {
            int width = Console.IsOutputRedirected ? 120 : Math.Max(80, Console.WindowWidth);
            parse.InvocationConfiguration.Output.WriteLine(epilogue(width));
        }
        return exit;
    }
}
