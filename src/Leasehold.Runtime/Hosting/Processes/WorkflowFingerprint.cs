using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace Leasehold.Runtime.Hosting.Processes;

/// <summary>
/// What identifies a workflow's definition across processes: its name, consistency, functions (names, parents,
/// whether they may abort) and declared accesses, and the code of every body and key selector (the module's
/// version id and the method's token: a rebuild of changed code changes it; the SDK builds deterministically, so
/// the same source gives the same id). Two processes that run a workflow of the same name with different
/// fingerprints would execute different code for one plan, so a worker whose set differs is refused at join.
/// Values a delegate captures (a workload's parameters) are not part of it.
/// </summary>
public static class WorkflowFingerprint
{
    public static string Of(WorkflowDefinition workflow)
    {
        var text = new StringBuilder();
        text.Append(workflow.Name).Append('|').Append(workflow.Consistency);
        foreach (var f in workflow.Functions)
        {
            text.Append("|f:").Append(f.Name).Append(':').Append(f.Index).Append(':').Append(f.MayAbort)
                .Append(":p=").AppendJoin(',', f.Parents).Append(":b=").Append(CodeOf(f.Body.Method));
            foreach (var a in f.Accesses)
                text.Append("|a:").Append(a.Table).Append(':').Append(a.Mode).Append(':').Append(a.AnyKey).Append(':')
                    // A read of any key (a causal workflow's ReadsAny) has no selector: its keys come from what it reads.
                    .Append(a.KeySelector is null ? "any" : CodeOf(a.KeySelector.Method));
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    private static string CodeOf(MethodInfo method) => $"{method.Module.ModuleVersionId:N}/{method.MetadataToken:x8}";
}
