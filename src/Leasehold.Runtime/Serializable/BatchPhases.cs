namespace Leasehold.Runtime.Serializable;

/// <summary>
/// Where a committed batch spent its time, summed over batches: <b>logging</b> from closing it to its plans going out
/// (waiting for a place in the pipeline, then the sync that makes its input durable), <b>executing</b> from its plans
/// to the last worker's executed message, and <b>committing</b> from there to its commit record being durable (waiting
/// for the write in flight, then its own). The figures say which part of the path a change should shorten.
/// </summary>
public sealed class BatchPhases
{
    private long _batches, _logging, _executing, _committing;

    public long Batches => Interlocked.Read(ref _batches);
    public TimeSpan Logging => new(Interlocked.Read(ref _logging));
    public TimeSpan Executing => new(Interlocked.Read(ref _executing));
    public TimeSpan Committing => new(Interlocked.Read(ref _committing));

    internal void Add(TimeSpan logging, TimeSpan executing, TimeSpan committing)
    {
        Interlocked.Add(ref _logging, logging.Ticks);
        Interlocked.Add(ref _executing, executing.Ticks);
        Interlocked.Add(ref _committing, committing.Ticks);
        Interlocked.Increment(ref _batches);
    }
}
