using BenchmarkDotNet.Running;

namespace Leasehold.Benchmarks;

/// <summary>
/// Entry point: every benchmark class in this assembly is selectable by BenchmarkDotNet's command line,
/// e.g. <c>dotnet run -c Release --project bench/Leasehold.Benchmarks -- --filter '*' --job short</c>.
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
