using System.Collections.Concurrent;

namespace EdgeProfile.Hub.Rules;

/// <summary>A store's rule-set version as this hub replica last saw it on the store's rule stream.</summary>
/// <param name="StoreId">The store.</param>
/// <param name="Version">The version the store reported applying when it connected, or the last one sent to it since.</param>
/// <param name="At">When that was.</param>
/// <param name="State"><c>applied</c> (reported by the store at connect), <c>sent</c> (written to its open stream), or <c>disconnected</c>.</param>
public sealed record RuleDelivery(string StoreId, long Version, DateTimeOffset At, string State);

/// <summary>
/// Which rule-set version each connected store has, from the rule streams of this replica (kept in memory): a store
/// reports the version it applies when it opens its stream, and every later version is recorded when it is written to
/// the stream (the store applies it on receipt). Shown by <c>GET /api/rules</c> and the UI as "live per store".
/// </summary>
internal sealed class RuleDeliveries(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, RuleDelivery> _stores = new(StringComparer.Ordinal);

    public void Connected(string storeId, long knownVersion) =>
        _stores[storeId] = new RuleDelivery(storeId, knownVersion, time.GetUtcNow(), "applied");

    public void Sent(string storeId, long version) =>
        _stores[storeId] = new RuleDelivery(storeId, version, time.GetUtcNow(), "sent");

    public void Disconnected(string storeId)
    {
        if (_stores.TryGetValue(storeId, out var last))
        {
            _stores[storeId] = last with { State = "disconnected", At = time.GetUtcNow() };
        }
    }

    public IReadOnlyList<RuleDelivery> Snapshot() => [.. _stores.Values.OrderBy(d => d.StoreId, StringComparer.Ordinal)];
}
