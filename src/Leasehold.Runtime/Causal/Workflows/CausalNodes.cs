using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Causal.Workflows;

/// <summary>The causal cluster's addresses, known to both parts: a server reaches the client only by this id, never by its object.</summary>
internal static class CausalNodes
{
    /// <summary>The client's address: results, aborts and commits come back here.</summary>
    public static readonly NodeId Client = NodeId.Client(0);

    /// <summary>The servers are never rolled back: one incarnation for the cluster's life, as is the client's.</summary>
    public static readonly Incarnation Incarnation = new(0);

    /// <summary>The next server on the ring, wherever it lives.</summary>
    public static NodeId Successor(int server, int servers) => NodeId.CacheServer((server + 1) % servers);

    /// <summary>The one wording of a stop on a lost link, for the client and the server hosts alike.</summary>
    public static string HaltReason(string lostLink) =>
        $"the causal cluster stopped: {lostLink}. A CausalMesh ring needs reliable FIFO links, and until servers can leave a ring a broken link stops the cluster rather than lose or reorder a write";
}
