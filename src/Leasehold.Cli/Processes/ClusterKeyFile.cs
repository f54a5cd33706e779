using System.Security.Cryptography;

namespace Leasehold.Cli.Processes;

/// <summary>
/// The cluster key every process of a cluster shares: its links authenticate with it (challenge-response), and a
/// process without it is refused. A file of 16 to 4,096 bytes, readable by its owner only.
/// </summary>
internal static class ClusterKeyFile
{
    public const int MinBytes = 16;
    public const int MaxBytes = 4096;

    /// <summary>The key in <paramref name="path"/>; a missing, short or oversized file is a <see cref="UsageException"/> naming it.</summary>
    public static byte[] Read(string path)
    {
        byte[] key;
        try
        {
            if (Directory.Exists(path)) throw new UsageException($"--key-file: '{path}' is a directory, not a key file");
            var info = new FileInfo(path);
            if (!info.Exists) throw new UsageException($"--key-file: '{path}' does not exist (create one: head -c 32 /dev/urandom > {path}; chmod 600 {path})");
            if (info.Length > MaxBytes) throw new UsageException($"--key-file: '{path}' holds {info.Length} bytes; a cluster key is {MinBytes} to {MaxBytes} bytes");
            key = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--key-file: cannot read '{path}': {e.Message}");
        }
        if (key.Length < MinBytes) throw new UsageException($"--key-file: '{path}' holds {key.Length} bytes; a cluster key needs at least {MinBytes} (head -c 32 /dev/urandom > {path})");
        return key;
    }

    /// <summary>Writes a fresh random key, readable by its owner only.</summary>
    public static void Create(string path)
    {
        // Created with owner-only permissions, never readable by others even for a moment.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var file = new FileStream(path, options);
        file.Write(RandomNumberGenerator.GetBytes(32));
    }
}

/// <summary>Bad flags or input for a process command: printed as one line, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
