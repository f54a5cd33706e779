using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Leasehold.Cli;

/// <summary>
/// Turns a parse error into one line for a user: the unknown command with the list of commands, the option whose
/// value is not a number, or System.CommandLine's own message; never a .NET type name.
/// </summary>
internal static class UsageError
{
    public static string Describe(ParseResult parse, Command root)
    {
        var command = parse.CommandResult.Command;
        string help = command == root ? "leasehold --help" : $"leasehold {command.Name} --help";
        return $"leasehold: {Cause(parse, root)} (see '{help}')";
    }

    private static string Cause(ParseResult parse, Command root)
    {
        foreach (var error in parse.Errors)
            if (NotANumber(error) is { } number) return number;
        if (parse.UnmatchedTokens.FirstOrDefault() is { } unmatched)
        {
            if (unmatched.StartsWith('-')) return $"unknown option '{unmatched}'";
            if (parse.CommandResult.Command == root)
                return $"unknown command '{unmatched}'; the commands are {string.Join(", ", root.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}";
        }
        return Regex.Replace(parse.Errors[0].Message, @"\s+", " ").Trim();
    }

    /// <summary>"--theta: 'abc' is not a number" when the error is a numeric option's value that does not parse, else null.</summary>
    private static string? NotANumber(ParseError error)
    {
        var option = error.SymbolResult switch
        {
            OptionResult o => o,
            ArgumentResult { Parent: OptionResult o } => o,
            _ => null,
        };
        if (option is null) return null;
        var type = Nullable.GetUnderlyingType(option.Option.ValueType) ?? option.Option.ValueType;
        bool whole = type == typeof(int) || type == typeof(long);
        if (!whole && type != typeof(double)) return null;
        foreach (var token in option.Tokens)
        {
            string text = token.Value;
            if (whole && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n))
            {
                if (type == typeof(int) && n is < int.MinValue or > int.MaxValue) return $"{option.Option.Name}: '{text}' is out of range (at most {int.MaxValue})";
                continue;
            }
            bool isNumber = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
            if (!whole && isNumber) continue;
            return $"{option.Option.Name}: '{text}' is not {(whole && isNumber ? "a whole number" : "a number")}";
        }
        return null;
    }
}
