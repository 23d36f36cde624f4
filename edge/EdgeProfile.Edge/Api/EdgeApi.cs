using EdgeProfile.Core.Customers;
using EdgeProfile.Core.Profiles;
using EdgeProfile.Edge.Ingest;
using EdgeProfile.Edge.Log;
using EdgeProfile.Edge.Uplink;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Api;

/// <summary>The local HTTP API of contracts.md §3, for store apps; needs no WAN.</summary>
public static class EdgeApi
{
    /// <summary>Maps <c>/api/health</c>, <c>/api/stats</c>, <c>/api/profiles/{key}</c> and <c>/api/deadletters</c>.</summary>
    public static IEndpointRouteBuilder MapEdgeApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/api/health", (IOptions<EdgeOptions> o, UplinkStatus uplink, EdgeIdentity identity, IServiceProvider sp) =>
        {
            var external = sp.GetService<ExternalBrokerService>();
            return Results.Json(new
            {
                status = "ok",
                storeId = o.Value.StoreId,
                mqtt = new { mode = o.Value.Mqtt.IsExternal ? "external" : "embedded", port = o.Value.Mqtt.Port, connected = external?.Connected ?? true },
                hub = new
                {
                    url = string.IsNullOrEmpty(o.Value.HubUrl) ? null : o.Value.HubUrl,
                    enrolled = identity.Enrolled,
                    connected = uplink.Connected,
                    ackedThrough = uplink.AckedThrough,
                    lastAckAt = uplink.LastAckAt,
                    lastError = uplink.LastError,
                },
            });
        });

        app.MapGet("/api/stats", (EdgeStats s, IOptions<EdgeOptions> o) =>
        {
            var oldest = s.OldestOutboxUnixMs;
            return Results.Json(new
            {
                storeId = o.Value.StoreId,
                eventsStored = s.EventsStored,
                duplicatesIgnored = s.DuplicatesIgnored,
                deadLettered = s.DeadLettered,
                lateEvents = s.LateEvents,
                outbox = new
                {
                    backlog = s.OutboxBacklog,
                    oldestAgeSeconds = oldest == 0 ? 0 : Math.Max(0, (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - oldest) / 1000.0),
                    bytes = s.OutboxBytes,
                    budgetBytes = o.Value.Uplink.DiskBudgetMb * 1024 * 1024,
                    overflowCustomers = s.OverflowCustomers,
                },
                modelVersion = (string?)null,
            });
        });

        app.MapGet("/api/profiles/{*customerKey}", (string customerKey, EdgeDatabase db, EdgeIdentity identity, IOptions<EdgeOptions> o) =>
        {
            if (!CustomerKey.TryParse(Uri.UnescapeDataString(customerKey), out var key))
            {
                return Results.Json(new { error = $"'{customerKey}' is not a customer key (kind:value with kind one of {CustomerKey.KindList})" }, statusCode: 400);
            }

            key = identity.Pseudonymizer.Canonical(key);
            var profile = ProfileStore.Find(db, key.ToString());
            if (profile is null)
            {
                return Results.Json(new { error = $"no customer {key} at store {o.Value.StoreId}" }, statusCode: 404);
            }

            var asOf = DateTimeOffset.UtcNow > profile.LastSeen ? DateTimeOffset.UtcNow : profile.LastSeen;
            var view = ProfileMath.View(profile, asOf);
            return Results.Json(new
            {
                storeId = o.Value.StoreId,
                customerKey = view.CustomerKey,
                identifiers = view.Identifiers,
                asOf = view.AsOf,
                features = new object[]
                {
                    Feature("visits_7d", view.Visits7d, view),
                    Feature("visits_30d", view.Visits30d, view),
                    Feature("spend_7d", view.Spend7d, view),
                    Feature("spend_30d", view.Spend30d, view),
                    Feature("events_total", view.EventsTotal, view),
                    Feature("last_category", view.LastCategory, view),
                    Feature("last_channel", view.LastChannel, view),
                    Feature("channels", view.Channels, view),
                },
                firstSeen = view.FirstSeen,
                lastSeen = view.LastSeen,
                tags = view.Tags.Select(t => new { name = t.Name, reason = t.Reason, reasonZh = t.ReasonZh }),
                scores = Array.Empty<object>(),
                reasons = view.Tags.Select(t => $"{t.Name}: {t.Reason}"),
            });
        });

        app.MapGet("/api/deadletters", (int? limit, EdgeDatabase db) =>
        {
            var n = Math.Clamp(limit ?? 50, 1, 1000);
            return Results.Json(DeadLetterReader.Newest(db, n));
        });

        return app;
    }

    private static object Feature(string name, object? value, ProfileView view) => new
    {
        name,
        value,
        asOf = view.AsOf,
        updatedAt = view.LastSeen,
        freshnessSeconds = Math.Max(0, (view.AsOf - view.LastSeen).TotalSeconds),
    };
}
