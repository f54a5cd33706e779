using RocksDbSharp;

namespace Leasehold.Storage.RocksDb;

/// <summary>
/// Versions a commit superseded, to be deleted by a later commit's write: one version (<see cref="From"/>
/// alone), or every version of one object below a batch (<see cref="From"/> up to <see cref="To"/>, for an
/// object whose older versions this process has not seen).
/// </summary>
internal readonly record struct SupersededVersions(byte[] From, byte[]? To)
{
    public static SupersededVersions One(byte[] objectPrefix, long batch) => new(RocksKeys.VersionKey(objectPrefix, batch), null);

    public static SupersededVersions AllBelow(byte[] objectPrefix, long batch) =>
        new(RocksKeys.VersionKey(objectPrefix, 0), RocksKeys.VersionKey(objectPrefix, batch));

    public void DeleteIn(WriteBatch batch)
    {
        if (To is null) batch.Delete(From);
        else batch.DeleteRange(From, (ulong)From.Length, To, (ulong)To.Length);
    }
}
