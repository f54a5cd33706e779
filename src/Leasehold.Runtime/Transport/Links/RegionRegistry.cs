using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Runtime.Transport.Links;

/// <summary>
/// The regions this process registered, with <see cref="OneSidedMemory"/>'s rules: a key is registered once,
/// retiring keeps the region (late operations land there unseen), and dropping an incarnation frees its
/// regions, after which its keys lead nowhere. Copied on write; lookups take no lock.
/// </summary>
internal sealed class RegionRegistry
{
    private readonly Lock _registering = new();
    private Dictionary<RegionKey, Target> _targets = [];
    private HashSet<int> _dropped = [];

    public void Register(RegionKey key, IRegion region)
    {
        ArgumentNullException.ThrowIfNull(region);
        lock (_registering)
        {
            if (_targets.ContainsKey(key) || _dropped.Contains(key.Incarnation))
                throw new InvalidOperationException($"{key} is already registered: each incarnation registers fresh regions under its own key");
            Volatile.Write(ref _targets, new Dictionary<RegionKey, Target>(_targets) { [key] = new Target(region) });
        }
    }

    /// <summary>The target of <paramref name="key"/>, <see cref="Target.Nowhere"/> for a dropped incarnation's, or null for a key never registered.</summary>
    public Target? TryFind(RegionKey key)
    {
        if (Volatile.Read(ref _targets).TryGetValue(key, out var target)) return target;
        return Volatile.Read(ref _dropped).Contains(key.Incarnation) ? Target.Nowhere : null;
    }

    public Target Find(RegionKey key) => TryFind(key) ?? throw new UnknownRegionKeyException(key);

    public int RetireIncarnation(int incarnation)
    {
        int retired = 0;
        foreach (var (key, target) in Volatile.Read(ref _targets))
        {
            if (key.Incarnation != incarnation) continue;
            target.Retire();
            retired++;
        }
        return retired;
    }

    public int DropIncarnation(int incarnation)
    {
        lock (_registering)
        {
            var kept = new Dictionary<RegionKey, Target>(_targets.Count);
            int dropped = 0;
            foreach (var (key, target) in _targets)
            {
                if (key.Incarnation != incarnation) kept.Add(key, target);
                else if (!target.Retired) throw new InvalidOperationException($"{key} is still in service: retire an incarnation before dropping its regions");
                else dropped++;
            }
            Volatile.Write(ref _targets, kept);
            Volatile.Write(ref _dropped, new HashSet<int>(_dropped) { incarnation });
            return dropped;
        }
    }

    public bool HoldsRegion(RegionKey key) => Volatile.Read(ref _targets).ContainsKey(key);

    public int Count => Volatile.Read(ref _targets).Count;

    /// <summary>A registered region and whether its key is retired; <see cref="Nowhere"/> has no region.</summary>
    public sealed class Target(IRegion? region)
    {
        public static readonly Target Nowhere = CreateNowhere();

        private volatile bool _retired;
        public IRegion? Region { get; } = region;
        public bool Retired => _retired;
        public void Retire() => _retired = true;

        private static Target CreateNowhere()
        {
            var nowhere = new Target(null);
            nowhere.Retire();
            return nowhere;
        }
    }
}
