using Leasehold.Runtime.Serializable.Worker;

namespace Leasehold.Tests.Worker;

/// <summary>
/// A key's operation chain keeps entries in (ts, position) order and refuses the two impossible
/// arrivals: a record that would land ahead of an entry that already started (a late virtual vertex),
/// and a second entry at the same (ts, position).
/// </summary>
public class OperationChainTests
{
    private static ChainEntry Entry(long ts, int position, EntryKind kind = EntryKind.Local) => new(kind, ts, position, batch: 1, keyId: 0);

    private static List<(long, int)> Drain(OperationChain chain)
    {
        var order = new List<(long, int)>();
        while (chain.Head is { } head)
        {
            order.Add((head.Ts, head.Position));
            chain.PopHead(head);
        }
        return order;
    }

    [Fact]
    public void Entries_come_out_in_ts_then_position_order_whatever_the_arrival_order()
    {
        var chain = new OperationChain();
        (long, int)[] arrivals = [(5, 1), (3, 0), (5, 0), (9, 2), (3, 2), (1, -1), (7, 0), (5, 3), (2, 0)];
        foreach (var (ts, p) in arrivals) chain.Insert(Entry(ts, p, p < 0 ? EntryKind.AwaitIn : EntryKind.Virtual));
        Assert.Equal(arrivals.Length, chain.Count);
        Assert.Equal([(1, -1), (2, 0), (3, 0), (3, 2), (5, 0), (5, 1), (5, 3), (7, 0), (9, 2)], Drain(chain));
        Assert.Equal(0, chain.Count);
        Assert.Null(chain.Head);
    }

    [Fact]
    public void The_chain_grows_and_compacts_without_losing_order()
    {
        var chain = new OperationChain();
        var expected = new List<(long, int)>();
        long ts = 0;
        for (int round = 0; round < 50; round++)
        {
            for (int i = 0; i < 7; i++) chain.Insert(Entry(++ts, i % 3));
            for (int i = 0; i < 5; i++) { var h = chain.Head!; expected.Add((h.Ts, h.Position)); chain.PopHead(h); }
        }
        var rest = Drain(chain);
        var all = expected.Concat(rest).ToList();
        Assert.Equal(350, all.Count);
        Assert.Equal(all.OrderBy(x => x.Item1).ThenBy(x => x.Item2), all);
    }

    [Fact]
    public void A_late_record_ahead_of_an_active_head_is_refused()
    {
        var chain = new OperationChain();
        var head = Entry(10, 1);
        chain.Insert(head);
        chain.Insert(Entry(12, 0));
        head.Active = true;

        var late = Entry(10, 0, EntryKind.Virtual); // same ts, earlier position: it should have run first
        var e = Assert.Throws<InvalidOperationException>(() => chain.Insert(late));
        Assert.Contains("ahead of the active head", e.Message);
        Assert.Throws<InvalidOperationException>(() => chain.Insert(Entry(4, 3, EntryKind.Virtual)));

        // Nothing changed, and records behind the active head are still welcome.
        Assert.Same(head, chain.Head);
        Assert.Equal(2, chain.Count);
        chain.Insert(Entry(11, 0, EntryKind.Virtual));
        Assert.Equal([(10, 1), (11, 0), (12, 0)], Drain(chain));
    }

    [Fact]
    public void An_entry_may_still_go_ahead_of_a_head_that_has_not_started()
    {
        var chain = new OperationChain();
        chain.Insert(Entry(10, 1));
        chain.Insert(Entry(10, 0, EntryKind.Virtual));
        Assert.Equal(0, chain.Head!.Position);
    }

    [Fact]
    public void A_duplicate_ts_and_position_is_refused()
    {
        var chain = new OperationChain();
        chain.Insert(Entry(3, 0));
        chain.Insert(Entry(5, 1));
        chain.Insert(Entry(8, 0));
        var e = Assert.Throws<InvalidOperationException>(() => chain.Insert(Entry(5, 1, EntryKind.Virtual)));
        Assert.Contains("same (ts, position)", e.Message);
        Assert.Throws<InvalidOperationException>(() => chain.Insert(Entry(8, 0))); // at the tail
        Assert.Throws<InvalidOperationException>(() => chain.Insert(Entry(3, 0))); // at the head
        Assert.Equal(3, chain.Count);
        chain.Insert(Entry(5, 2)); // same ts, another position: a different operation
        Assert.Equal([(3, 0), (5, 1), (5, 2), (8, 0)], Drain(chain));
    }

    [Fact]
    public void Popping_anything_but_the_head_is_refused()
    {
        var chain = new OperationChain();
        var first = Entry(1, 0);
        var second = Entry(2, 0);
        chain.Insert(first);
        chain.Insert(second);
        Assert.Throws<InvalidOperationException>(() => chain.PopHead(second));
        Assert.Same(first, chain.PopHead(first));
        Assert.Same(second, chain.PopHead(second));
        Assert.Throws<InvalidOperationException>(() => chain.PopHead(second));
    }
}
