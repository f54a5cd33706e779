using System.Runtime.InteropServices;

namespace Leasehold.Runtime.Scheduling;

/// <summary>
/// Waits a precise number of nanoseconds without holding the core, and can be woken early. On Linux it
/// blocks in ppoll on an eventfd with the thread's timer slack cut to 1 ns, so a 7 µs wait sleeps for
/// roughly that long instead of the default 50 µs slack or a busy loop; elsewhere it falls back to an
/// event with millisecond waits and yields for the last millisecond.
/// </summary>
internal sealed partial class PreciseWaiter : IDisposable
{
    private const int PR_SET_TIMERSLACK = 29;
    private const short POLLIN = 0x1;
    private const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;
    private readonly int _eventFd = -1;
    private readonly AutoResetEvent? _fallback;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd { public int Fd; public short Events; public short Revents; }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int ppoll(PollFd* fds, ulong nfds, TimeSpec* timeout, void* sigmask);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint read(int fd, void* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint write(int fd, void* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    public PreciseWaiter()
    {
        if (OperatingSystem.IsLinux())
        {
            try { _eventFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { _eventFd = -1; }
        }
        if (_eventFd < 0) _fallback = new AutoResetEvent(false);
    }

    /// <summary>Call on the waiting thread: a 1 ns timer slack makes short sleeps end on time.</summary>
    public void TuneCurrentThread()
    {
        if (_eventFd >= 0) prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
    }

    /// <summary>Blocks until woken or <paramref name="nanoseconds"/> have passed (forever when negative).</summary>
    public unsafe void Wait(long nanoseconds)
    {
        if (_fallback is not null)
        {
            if (nanoseconds < 0) _fallback.WaitOne(100);
            else if (nanoseconds > 1_000_000) _fallback.WaitOne(TimeSpan.FromTicks((nanoseconds - 1_000_000) / 100));
            else Thread.Yield();
            return;
        }
        var fd = new PollFd { Fd = _eventFd, Events = POLLIN };
        var timeout = new TimeSpec { Seconds = nanoseconds / 1_000_000_000, Nanoseconds = nanoseconds % 1_000_000_000 };
        int ready = ppoll(&fd, 1, nanoseconds < 0 ? null : &timeout, null);
        if (ready > 0)
        {
            ulong drained;
            read(_eventFd, &drained, sizeof(ulong));
        }
    }

    /// <summary>Ends a wait in progress (or the next one) early; callable from any thread.</summary>
    public unsafe void Wake()
    {
        if (_fallback is not null)
        {
            _fallback.Set();
            return;
        }
        ulong one = 1;
        write(_eventFd, &one, sizeof(ulong));
    }

    public void Dispose()
    {
        if (_eventFd >= 0) close(_eventFd);
        _fallback?.Dispose();
    }
}
