using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Leasehold.Cli.Bench;
using Leasehold.Cli.Check;
using Leasehold.Cli.Crash;

namespace Leasehold.Cli;

/// <summary>The `leasehold` root command and its subcommands.</summary>
internal static class LeaseholdCommand
{
    /// <summary>
    /// A plain command named `leasehold` rather than a <see cref="RootCommand"/>, whose name is the executable's
    /// (`Leasehold.Cli` under `dotnet run`) and so would show in every usage line.
    /// </summary>
    public static Command Create()
    {
        var help = new HelpOption();
        var bench = BenchCommand.Create();
        help.Action = new HelpWithEpilogue((SynchronousCommandLineAction)help.Action!, new Dictionary<Command, Func<int, string>>
        {
            [bench] = BenchGlossary.HelpSection,
        });
        var root = new Command("leasehold", "Leasehold: stateful serverless workflows with serializable transactions")
        {
            help,
            new VersionOption(),
            bench,
            CheckCommand.Create(),
            CrashTestCommand.Create(),
            CrashNodeCommand.Create(),
            BenchCommand.CreateDriver(),
            Processes.WorkerCommand.Create(),
            Links.LinkPeerCommand.Create(),
            Links.LinkBenchCommand.Create(),
            SharedMemory.ShmPeerCommand.Create(),
            SharedMemory.ShmLatencyCommand.Create(),
        };
        // `leasehold` alone asks what it can do, as `leasehold --help` does: the same answer, the same exit code.
        root.SetAction(parse => parse.RootCommandResult.Command.Parse(["--help"]).Invoke());
        return root;
    }
}
