using EdgeProfile.Core.Customers;
using EdgeProfile.Core.Explanations;
using EdgeProfile.Edge.Log;
using EdgeProfile.Edge.Recommending;
using EdgeProfile.Edge.Uplink;
using EdgeProfile.Models.Recommending;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Api;

/// <summary>
/// Recommendations at the store: <c>GET /api/profiles/{key}/recommendations?k=10&amp;lang=</c> (next products for the
/// customer from their products at this store, each with its reason), <c>GET /api/products/{sku}/similar?k=10</c>, and
/// <c>GET /api/recommenders</c> (what is serving).
/// </summary>
public static class RecommendationApi
{
    /// <summary>Most recommendations per request.</summary>
    public const int MaxK = 100;

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapRecommendationApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/recommenders", (RecommenderHost host) => host.Current is { } served
            ? Results.Json(new
            {
                version = served.Recommender.Version,
                sha256 = served.Sha256,
                source = served.Source,
                deployedAt = served.DeployedAt,
                items = served.Recommender.ItemCount,
                sasrec = served.Recommender.HasSasRec,
                metrics = served.Recommender.Bundle.Metrics,
            })
            : Results.Json(new { version = (string?)null, note = "no recommender: set Edge:Recommendations:Bundle or publish one at the hub" }));

        app.MapGet("/api/profiles/{customerKey}/recommendations", (string customerKey, int? k, string? lang, HttpRequest request, EdgeDatabase db,
            EdgeIdentity identity, RecommenderHost host, IOptions<EdgeOptions> o) =>
        {
            if (!ExplanationApi.TryLanguage(lang, request, out var language, out var langError))
            {
                return Results.Json(new { error = langError }, statusCode: 400);
            }

            if (k is < 1 or > MaxK)
            {
                return Results.Json(new { error = $"k must be 1-{MaxK}" }, statusCode: 400);
            }

            if (!CustomerKey.TryParse(Uri.UnescapeDataString(customerKey), out var key))
            {
                return Results.Json(new { error = $"'{customerKey}' is not a customer key (kind:value with kind one of {CustomerKey.KindList})" }, statusCode: 400);
            }

            if (host.Current is not { } served)
            {
                return Results.Json(new { error = "no recommender is serving (set Edge:Recommendations:Bundle or publish one at the hub)" }, statusCode: 404);
            }

            key = identity.Pseudonymizer.Canonical(key);
            var profile = ProfileStore.Find(db, key.ToString());
            if (profile is null)
            {
                return Results.Json(new { error = $"no customer {key} at store {o.Value.StoreId}" }, statusCode: 404);
            }

            EdgeProfile.Contracts.V1.GlobalSummary? global;
            using (var connection = db.OpenRead())
            {
                global = GlobalProfileStore.Find(connection, profile.Identifiers.Prepend(profile.CustomerKey));
            }

            var personalised = global?.Consent?.Personalisation != true;
            var recent = personalised ? profile.Items.Select(i => new RecentInteraction(i.Sku, i.Name, i.Type)).ToList() : [];
            // Searches are embedded here, at the store, with the bundle's text model; only recommendations leave.
            var searches = personalised ? profile.Searches.Select(x => x.Text).ToList() : [];
            var list = served.Recommender.Recommend(recent, k ?? 10, searches);
            return Results.Json(new
            {
                customerKey = profile.CustomerKey,
                recommender = served.Recommender.Version,
                personalised,
                note = personalised ? null : language == ReasonLanguage.ZhCn ? "顾客已撤回个性化授权：只推荐热门商品" : "personalisation consent withdrawn: popular products only",
                history = personalised ? profile.Items.TakeLast(10).Select(i => new { sku = i.Sku, name = i.Name, type = i.Type, at = i.At }) : null,
                recommendations = list.Select((r, rank) => View(r, rank, language)),
            });
        });

        app.MapGet("/api/products/{sku}/similar", (string sku, int? k, string? lang, HttpRequest request, RecommenderHost host) =>
        {
            if (!ExplanationApi.TryLanguage(lang, request, out var language, out var langError))
            {
                return Results.Json(new { error = langError }, statusCode: 400);
            }

            if (k is < 1 or > MaxK)
            {
                return Results.Json(new { error = $"k must be 1-{MaxK}" }, statusCode: 400);
            }

            if (host.Current is not { } served)
            {
                return Results.Json(new { error = "no recommender is serving" }, statusCode: 404);
            }

            var recommender = served.Recommender;
            var list = recommender.SimilarProducts(sku, k ?? 10);
            return list.Count == 0 && !recommender.Bundle.Items.Any(i => i.Sku == sku)
                ? Results.Json(new { error = $"product '{sku}' is not in recommender {recommender.Version}" }, statusCode: 404)
                : Results.Json(new { sku, recommender = recommender.Version, similar = list.Select((r, rank) => View(r, rank, language)) });
        });

        return app;
    }

    private static object View(Recommendation r, int rank, ReasonLanguage language) => new
    {
        rank = rank + 1,
        sku = r.Sku,
        name = r.Name,
        score = r.Score,
        source = r.Source,
        because = r.BecauseOfSku is null ? null : new { sku = r.BecauseOfSku, name = r.BecauseOfName },
        reason = language == ReasonLanguage.ZhCn ? r.ReasonZh : r.ReasonEn,
    };
}
