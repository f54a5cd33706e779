namespace Leasehold.Runtime.Serializable;

/// <summary>The store's contents cannot be recovered from (a corrupted log, a workflow that is not registered): retrying will not help.</summary>
public sealed class RecoveryException(string message) : Exception(message);
