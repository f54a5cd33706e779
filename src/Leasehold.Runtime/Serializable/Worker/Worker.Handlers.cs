using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Serializable.Worker;

/// <summary>
/// A worker's message handlers, bound once: the remote-access path posts its <see cref="ChainEntry"/> as
/// the state of these, so a grant, a one-sided read or write and a release allocate no closure or delegate.
/// </summary>
internal sealed partial class ClusterWorker
{
    private sealed class Handlers(ClusterWorker worker)
    {
        public readonly Action<object> Grant = entry => worker.OnGrant((ChainEntry)entry);
        public readonly Action<object, SlotContents> GrantedValueRead = (entry, contents) => worker.OnGrantedValueRead((ChainEntry)entry, contents);
        public readonly Action<object> ReleaseLanded = entry => worker.OnReleaseLanded((ChainEntry)entry);
        public readonly Action<object> Released = entry => worker.OnReleased((ChainEntry)entry);
    }
}
