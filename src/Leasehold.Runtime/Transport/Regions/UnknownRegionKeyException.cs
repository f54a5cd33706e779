namespace Leasehold.Runtime.Transport.Regions;

/// <summary>An operation addressed a region key that was never registered: no memory answers to it.</summary>
public sealed class UnknownRegionKeyException(RegionKey key)
    : InvalidOperationException($"no region was ever registered as the {key}: a region key comes only from a registration")
{
    public RegionKey Key { get; } = key;
}
