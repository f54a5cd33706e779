using System.IO.MemoryMappedFiles;

namespace Leasehold.Runtime.Transport.SharedMemory;

/// <summary>
/// A whole region file mapped read-write at one stable address. Operations enter and leave it
/// (<see cref="Enter"/>), counted on the view's handle, so <see cref="Dispose"/> unmaps only once the last
/// operation in flight has left: an operation that resolved the region before it was dropped finishes on it,
/// and one that comes after gets an <see cref="ObjectDisposedException"/> instead of touching unmapped memory.
/// </summary>
internal sealed unsafe class RegionMapping : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private int _disposed;

    private RegionMapping(string path, MemoryMappedFile file, long bytes)
    {
        Path = path;
        Bytes = bytes;
        _file = file;
        try
        {
            _view = file.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.ReadWrite);
            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            Base = pointer + _view.PointerOffset;
        }
        catch
        {
            _view?.Dispose();
            file.Dispose();
            throw;
        }
    }

    public string Path { get; }
    public long Bytes { get; }
    public byte* Base { get; }

    /// <summary>A new, sparse file of <paramref name="bytes"/>; refused if the path exists (a stale file must be removed first).</summary>
    public static RegionMapping Create(string path, long bytes)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (IOException e) when (File.Exists(path))
        {
            throw new RegionFileException(path, $"already exists: another process holds this node and incarnation, or a stale file was not removed ({e.Message})");
        }
        try
        {
            stream.SetLength(bytes);
            return new RegionMapping(path, MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false), bytes);
        }
        catch
        {
            stream.Dispose();
            File.Delete(path);
            throw;
        }
    }

    /// <summary>Maps an existing file whole. Only its size is checked here: the region checks the header.</summary>
    public static RegionMapping Open(string path, long minimumBytes)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            throw new RegionFileException(path, "does not exist: its node has not created it yet, or its incarnation was dropped and the file removed");
        }
        try
        {
            long length = stream.Length;
            if (length < minimumBytes)
                throw new RegionFileException(path, $"holds {length} bytes, less than the {minimumBytes}-byte file header: truncated, or not a region file");
            return new RegionMapping(path, MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false), length);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Holds the mapping for one operation; throws once it is disposed.</summary>
    public Lease Enter()
    {
        bool entered = false;
        try
        {
            _view.SafeMemoryMappedViewHandle.DangerousAddRef(ref entered);
        }
        catch (ObjectDisposedException)
        {
            throw new ObjectDisposedException(Path, $"region file {Path} was unmapped here: its incarnation's regions were dropped");
        }
        return new Lease(this);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    public readonly ref struct Lease(RegionMapping mapping)
    {
        public void Dispose() => mapping._view.SafeMemoryMappedViewHandle.DangerousRelease();
    }
}
