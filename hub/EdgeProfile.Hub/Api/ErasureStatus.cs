namespace EdgeProfile.Hub.Api;

/// <summary>An erasure request as the hub keeps it: <c>POST /api/erasures</c>, <c>GET /api/erasures/{id}</c>.</summary>
/// <param name="RequestId">Its id.</param>
/// <param name="RequestedAt">When it was made.</param>
/// <param name="Identifiers">How many identifiers were erased (the identifiers themselves are not kept).</param>
/// <param name="Stores">How many stores were asked to erase.</param>
/// <param name="Confirmations">Which systems (the hub, each store) confirmed, and when.</param>
/// <param name="CompletedAt">When the last store confirmed; null while some have not.</param>
public sealed record ErasureStatus(string RequestId, DateTimeOffset RequestedAt, int Identifiers, int Stores,
    IReadOnlyList<ErasureConfirmationEntry> Confirmations, DateTimeOffset? CompletedAt);

/// <summary>A system that carried out an erasure.</summary>
/// <param name="System"><c>hub</c> or a store id.</param>
/// <param name="ConfirmedAt">When.</param>
public sealed record ErasureConfirmationEntry(string System, DateTimeOffset ConfirmedAt);
