using RocksDbSharp;

namespace Leasehold.Storage.RocksDb;

/// <summary>
/// A version a commit superseded, to be deleted by a later commit's write (a point delete: this store writes
/// no range tombstones, which every later read of the memtable would have to fragment again).
/// </summary>
internal readonly record struct SupersededVersions(byte[] VersionKey)
{
    public static SupersededVersions One(byte[] objectPrefix, long batch) => new(RocksKeys.VersionKey(objectPrefix, batch));

    public void DeleteIn(WriteBatch batch) => batch.Delete(VersionKey);
}
