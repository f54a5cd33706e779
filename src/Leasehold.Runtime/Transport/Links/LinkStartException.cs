namespace Leasehold.Runtime.Transport.Links;

/// <summary>Start could not link every peer before its deadline; the message names each peer not reached and why.</summary>
public sealed class LinkStartException(string message) : Exception(message);
