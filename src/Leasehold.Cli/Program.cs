using Leasehold.Cli;

var root = LeaseholdCommand.Create();
var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    // System.CommandLine exits 1 on a parse error; a usage error is 2 here, one line, naming the cause.
    Console.Error.WriteLine(UsageError.Describe(parse, root));
    return ExitCodes.Usage;
}
return await parse.InvokeAsync();
