namespace Leasehold.Runtime.Transport.Regions;

/// <summary>
/// The address of one registered region, the analogue of an RDMA rkey: the owning node and the incarnation
/// that registered it. Each incarnation registers fresh regions, so a key also fences: once its incarnation
/// is retired, operations through it land in memory nobody reads.
/// </summary>
public readonly record struct RegionKey(int Node, int Incarnation)
{
    public override string ToString() => $"region of node {Node}, incarnation {Incarnation}";
}
