using Leasehold.Workloads;
using Leasehold.Workloads.JepsenBank;
using Leasehold.Workloads.Banking;
using Leasehold.Workloads.Cycle;
using Leasehold.Workloads.ListAppend;
using Leasehold.Workloads.Micro;

namespace Leasehold.Cli.Bench;

internal static class WorkloadFactory
{
    public static IWorkload Create(BenchSettings s) => s.Workload switch
    {
        "banking" => new BankingWorkload(accounts: s.Keys ?? 100_000, theta: s.Theta),
        "micro" => new MicroWorkload(keys: s.Keys ?? 20_000, theta: s.Theta, length: s.Length, readOnlyShare: s.ReadOnlyShare),
        "bank" => new JepsenBankWorkload(),
        "cycle" => new CycleWorkload(keys: s.Keys ?? 16),
        "list-append" => new ListAppendWorkload(activeKeys: s.Keys ?? 10, maxAppendsPerKey: s.AppendsPerKey),
        _ => throw new ArgumentException($"unknown workload '{s.Workload}'"),
    };
}
