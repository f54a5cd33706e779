using Leasehold.Runtime.Scheduling;

namespace Leasehold.Tests.Scheduling;

public class ThreadPoolSchedulerTests
{
    /// <summary>
    /// Many threads post to few mailboxes while they drain: every item runs exactly once, each poster's
    /// items in order, and no mailbox is left with work and nobody draining it (a lost wake-up).
    /// </summary>
    [Fact]
    public async Task Every_posted_item_runs_once_in_order_under_concurrent_posting()
    {
        using var scheduler = new ThreadPoolScheduler();
        const int posters = 4, perPoster = 200_000, mailboxes = 3;
        var boxes = Enumerable.Range(0, mailboxes).Select(i => scheduler.CreateMailbox($"m{i}")).ToArray();
        var last = new int[mailboxes, posters];
        long ran = 0;
        bool ordered = true;
        for (int m = 0; m < mailboxes; m++) for (int p = 0; p < posters; p++) last[m, p] = -1;
        var threads = Enumerable.Range(0, posters).Select(p => new Thread(() =>
        {
            for (int i = 0; i < perPoster; i++)
            {
                int m = i % mailboxes, seq = i, poster = p;
                boxes[m].Post(() =>
                {
                    // Runs serially per mailbox: no lock needed for this mailbox's row.
                    if (last[m, poster] >= seq) ordered = false;
                    last[m, poster] = seq;
                    Interlocked.Increment(ref ran);
                });
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        var deadline = DateTime.UtcNow.AddMinutes(5); // a liveness bound for a loaded machine, not a speed check
        while (Interlocked.Read(ref ran) < (long)posters * perPoster && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal((long)posters * perPoster, Interlocked.Read(ref ran));
        Assert.True(ordered, "a poster's items ran out of order");
        Assert.Null(scheduler.Fault);
    }

    [Fact]
    public async Task Delayed_items_run_after_their_delay_in_scheduling_order()
    {
        using var scheduler = new ThreadPoolScheduler();
        var box = scheduler.CreateMailbox("m");
        var order = new List<int>();
        var done = new TaskCompletionSource();
        long start = scheduler.Time.GetTimestamp();
        TimeSpan firstAt = default;
        for (int i = 0; i < 100; i++)
        {
            int n = i;
            box.PostAfter(TimeSpan.FromMicroseconds(200), () =>
            {
                if (n == 0) firstAt = scheduler.Time.GetElapsedTime(start);
                order.Add(n);
                if (n == 99) done.SetResult();
            });
        }
        await done.Task.WaitAsync(TimeSpan.FromMinutes(2)); // a liveness bound, not a speed check
        Assert.Equal(Enumerable.Range(0, 100), order);
        Assert.True(firstAt >= TimeSpan.FromMicroseconds(200), $"ran after {firstAt.TotalMicroseconds} µs");
    }
}
