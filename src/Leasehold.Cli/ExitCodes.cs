namespace Leasehold.Cli;

internal static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The run failed, or an invariant or check found a violation.</summary>
    public const int Failure = 1;
    /// <summary>Bad flags, values or input: nothing ran.</summary>
    public const int Usage = 2;
}
