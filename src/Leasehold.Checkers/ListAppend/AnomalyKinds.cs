namespace Leasehold.Checkers.ListAppend;

/// <summary>The names of what the list-append checker reports, as Elle names them.</summary>
public static class AnomalyKinds
{
    // Cycles in the dependency graph (Adya's phenomena).
    public const string G0 = "G0";                 // ww edges only: dirty writes
    public const string G1c = "G1c";               // ww and wr edges: circular information flow
    public const string GSingle = "G-single";      // exactly one rw edge: read skew
    public const string G2Item = "G2-item";        // two or more rw edges: write skew
    // The same with real-time edges (--strict): serializable, but not in the order clients saw.
    public const string G0Realtime = "G0-realtime";
    public const string G1cRealtime = "G1c-realtime";
    public const string GSingleRealtime = "G-single-realtime";
    public const string G2ItemRealtime = "G2-item-realtime";

    // Found without the graph.
    public const string G1a = "G1a";                       // a read of an aborted transaction's append
    public const string G1b = "G1b";                       // a read of an intermediate state
    public const string Internal = "internal";             // a read disagrees with its own transaction's earlier operations
    public const string FutureRead = "future-read";        // a read shows an append its own transaction makes later
    public const string DuplicateElements = "duplicate-elements"; // a value twice in one read
    public const string DuplicateAppends = "duplicate-appends";   // the history appends a value to a key twice (not checkable)
    public const string GarbageRead = "garbage-read";      // a read of a value nobody appended
    public const string IncompatibleOrder = "incompatible-order"; // two reads of a key, neither a prefix of the other
    public const string LostUpdate = "lost-update";        // two committed transactions read the same version and both appended

    /// <summary>Every kind, in the order reports list them.</summary>
    public static readonly IReadOnlyList<string> All =
    [
        G0, G1a, G1b, G1c, GSingle, G2Item, G0Realtime, G1cRealtime, GSingleRealtime, G2ItemRealtime,
        LostUpdate, Internal, FutureRead, DuplicateElements, DuplicateAppends, GarbageRead, IncompatibleOrder,
    ];
}
