using Leasehold.Runtime.Scheduling;

namespace Leasehold.Tests.Scheduling;

/// <summary>Posts count every item handed to a mailbox; wake-ups only the hand-offs of an idle mailbox to a thread.</summary>
public class HandoffCounterTests
{
    [Fact]
    public void Deterministic_posts_to_an_idle_mailbox_wake_it_once_until_it_drains()
    {
        var scheduler = new DeterministicScheduler(seed: 1);
        var box = scheduler.CreateMailbox("m");
        for (int i = 0; i < 3; i++) box.Post(() => { });
        Assert.Equal(3, scheduler.Handoffs.Posts);
        Assert.Equal(1, scheduler.Handoffs.Wakeups);

        scheduler.RunToQuiescence();
        box.Post(() => { });
        Assert.Equal(4, scheduler.Handoffs.Posts);
        Assert.Equal(2, scheduler.Handoffs.Wakeups);
    }

    [Fact]
    public void Deterministic_delayed_items_count_when_they_reach_the_mailbox()
    {
        var scheduler = new DeterministicScheduler(seed: 1);
        var box = scheduler.CreateMailbox("m");
        box.PostAfter(TimeSpan.FromMilliseconds(1), () => { });
        Assert.Equal(0, scheduler.Handoffs.Posts);
        scheduler.RunToQuiescence();
        Assert.Equal(1, scheduler.Handoffs.Posts);
        Assert.Equal(1, scheduler.Handoffs.Wakeups);
    }

    /// <summary>Items a mailbox posts to itself while it drains join the running drain: no thread is woken for them.</summary>
    [Fact]
    public async Task Thread_pool_posts_to_a_draining_mailbox_need_no_wake_up()
    {
        using var scheduler = new ThreadPoolScheduler();
        var box = scheduler.CreateMailbox("m");
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int ran = 0;
        box.Post(() =>
        {
            for (int i = 0; i < 10; i++) box.Post(() => { if (++ran == 10) done.SetResult(); });
        });
        await done.Task.WaitAsync(TimeSpan.FromMinutes(2)); // a liveness bound for a loaded machine, not a speed check
        Assert.Equal(11, scheduler.Handoffs.Posts);
        Assert.Equal(1, scheduler.Handoffs.Wakeups);
        Assert.Null(scheduler.Fault);
    }
}
