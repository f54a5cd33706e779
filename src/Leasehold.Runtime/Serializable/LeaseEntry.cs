namespace Leasehold.Runtime.Serializable;

/// <summary>One row of a batch's lease table: who holds the object in this batch, who held it before (-1: nobody; load from the store), and whether the batch writes it.</summary>
internal readonly record struct LeaseEntry(int KeyId, StateKey Key, int Holder, int PreviousHolder, bool Written);
