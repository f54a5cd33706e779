using System.CommandLine;
using Leasehold.Cli;
using Leasehold.Cli.Bench;
using Leasehold.Cli.Check;
using Leasehold.Cli.Crash;

var root = new RootCommand("Leasehold: stateful serverless workflows with serializable transactions")
{
    BenchCommand.Create(),
    CheckCommand.Create(),
    CrashTestCommand.Create(),
    CrashNodeCommand.Create(),
};
var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    // System.CommandLine exits 1 on a parse error; a usage error is 2 here, one line, naming the cause.
    string message = System.Text.RegularExpressions.Regex.Replace(parse.Errors[0].Message, @"\s+", " ").Trim();
    string command = parse.CommandResult.Command == root ? "leasehold" : $"leasehold {parse.CommandResult.Command.Name}";
    Console.Error.WriteLine($"leasehold: {message} (see '{command} --help')");
    return ExitCodes.Usage;
}
return await parse.InvokeAsync();
