using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Tests.Transport.Conformance;

namespace Leasehold.Tests.Transport.Links;

/// <summary>The checks a process makes of its links to two <see cref="LinkPeerProcess"/> children: one body for every transport.</summary>
internal static class ProcessLinkChecks
{
    /// <summary>
    /// Ordering: every sender sends from its own thread to its node of a child, which echoes each message back; each
    /// echo stream must be the sender's sequence, whole and in order, from the node it was sent to.
    /// </summary>
    public static async Task EachLinkKeepsItsOrderAsync(List<(Endpoint Endpoint, Recorder Echoes, NodeId To)> senders, TimeSpan hangGuard)
    {
        const int perSender = 3000;
        var echoed = senders.Select(s => s.Echoes.Reached(perSender)).ToList();
        await Task.WhenAll(senders.Select(s => Task.Run(() =>
        {
            for (int i = 0; i < perSender; i++) s.Endpoint.Send(s.To, new PeerExecutedMsg(i));
        }))).WaitAsync(hangGuard);
        await Task.WhenAll(echoed).WaitAsync(hangGuard);
        foreach (var (_, echoes, to) in senders)
        {
            Assert.All(echoes.Received, m => Assert.Equal(to, m.From));
            Assert.Equal(Enumerable.Range(0, perSender).Select(i => (long)i), echoes.Received.Select(m => ((PeerExecutedMsg)m).Batch));
        }
    }

    /// <summary>
    /// Compare-and-swap: <paramref name="racer"/> (a child, requester 2) and two requesters here race on every slot of
    /// worker-1's region, held by another child; each slot has exactly one winner, and its flag names it. The slots raced.
    /// </summary>
    public static async Task<int> EachSwapHasOneWinnerAsync(IOneSided oneSided, IScheduler scheduler, LinkPeerProcess racer, TimeSpan hangGuard)
    {
        const int slots = 300;
        var region = new RegionKey(1, 1);
        await racer.SendAsync($"cas 1 {slots} 2");
        var here = await Task.WhenAll(new[] { 100, 101 }.Select(id => Task.Run(async () =>
        {
            var mailbox = scheduler.CreateMailbox($"requester-{id}");
            var won = await Task.WhenAll(Enumerable.Range(0, slots).Select(slot => oneSided.CompareAndSwapAsync(region, slot, RegionMemory.NoOwner, id, mailbox)));
            return (Id: id, Won: Enumerable.Range(0, slots).Where(s => won[s]).ToHashSet());
        }))).WaitAsync(hangGuard);
        var line = await racer.LineAsync(l => l.StartsWith("cas-won", StringComparison.Ordinal));
        var there = line["cas-won".Length..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToHashSet();
        var reader = scheduler.CreateMailbox("reader");
        for (int slot = 0; slot < slots; slot++)
        {
            var winners = here.Where(h => h.Won.Contains(slot)).Select(h => h.Id).Concat(there.Contains(slot) ? [2] : []).ToList();
            Assert.Single(winners);
            Assert.Equal(winners[0], (await oneSided.ReadAsync(region, slot, reader).WaitAsync(hangGuard)).Flag);
        }
        return slots;
    }
}
