using EdgeProfile.Core.Explanations;
using EdgeProfile.Hub.Profiles;
using EdgeProfile.Hub.Recommending;
using EdgeProfile.Hub.Storage;
using EdgeProfile.Models.Recommending;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EdgeProfile.Hub.Api;

/// <summary>
/// Next-item recommendations over REST (operator token). Bundles: <c>GET /api/recommenders</c> (the live one and every
/// registered one), <c>POST /api/recommenders?publish=true&amp;description=</c> (the bundle file as the body),
/// <c>POST /api/recommenders/{version}/publish</c>, <c>POST /api/recommenders/rollback</c>, and
/// <c>GET /api/recommenders/sequences</c> (every customer's product sequence across stores — product ids and names
/// only, no customer keys — what <c>edgeprofile recommenders build --from-hub</c> trains on). Serving:
/// <c>GET /api/profiles/{key}/recommendations?k=10&amp;lang=</c> over the customer's products at every store, and
/// <c>GET /api/products/{sku}/similar?k=10</c>.
/// </summary>
internal static class RecommenderApi
{
    /// <summary>Largest bundle accepted.</summary>
    public const long MaxBundleBytes = RecommenderBundle.MaxBytes;

    /// <summary>Most recommendations per request.</summary>
    public const int MaxK = 100;

    private const string Operator = "operator";

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/recommenders", async (RecommenderRegistry registry, CustomerVectors customers, CancellationToken ct) =>
        {
            var live = registry.Current;
            var list = await registry.ListAsync(ct).ConfigureAwait(false);
            return Results.Json(new
            {
                live = live.Sha256.Length == 0 ? null : new
                {
                    version = live.Version,
                    sha256 = live.Sha256,
                    publishedAt = DateTimeOffset.FromUnixTimeMilliseconds(live.PublishedAtMs),
                    action = live.Action,
                    items = live.Recommender?.ItemCount,
                    sasrec = live.Recommender?.HasSasRec,
                    metrics = live.Recommender?.Bundle.Metrics,
                },
                customerVectors = new { version = customers.Version, customers = customers.Count, updates = customers.Updates },
                bundles = list,
            });
        });

        api.MapPost("/recommenders", async (HttpRequest request, string? description, bool? publish, RecommenderRegistry registry, CancellationToken ct) =>
        {
            if (request.ContentLength is > MaxBundleBytes)
            {
                return ApiRequests.Error(StatusCodes.Status413PayloadTooLarge, $"a recommender bundle may be at most {MaxBundleBytes >> 20} MiB");
            }

            if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = MaxBundleBytes;
            }

            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, ct).ConfigureAwait(false);
            if (buffer.Length == 0)
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest, "the body must be a recommender bundle (edgeprofile recommenders build; Content-Type: application/octet-stream)");
            }

            return await Run(async () =>
            {
                var (summary, created) = await registry.RegisterAsync(buffer.ToArray(), description, Operator, publish ?? false, ct).ConfigureAwait(false);
                return Results.Json(summary with { Live = registry.Current.Version == summary.Version }, statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
            }).ConfigureAwait(false);
        });

        api.MapPost("/recommenders/rollback", async (RecommenderRegistry registry, CancellationToken ct) =>
            await Run(async () => await registry.RollbackAsync(Operator, ct).ConfigureAwait(false) is { } snapshot
                ? Results.Json(new { version = snapshot.Version, sha256 = snapshot.Sha256, action = snapshot.Action })
                : ApiRequests.Error(StatusCodes.Status409Conflict, "nothing to roll back to: no other recommender was published before")).ConfigureAwait(false));

        api.MapPost("/recommenders/{version}/publish", async (string version, RecommenderRegistry registry, CancellationToken ct) =>
            await Run(async () =>
            {
                var snapshot = await registry.PublishAsync(version, Operator, ct).ConfigureAwait(false);
                return Results.Json(new { version = snapshot.Version, sha256 = snapshot.Sha256, action = snapshot.Action });
            }).ConfigureAwait(false));

        api.MapGet("/recommenders/sequences", async (int? limit, HubDatabase db, CancellationToken ct) =>
        {
            var max = Math.Clamp(limit ?? 1_000_000, 1, 10_000_000);
            var rows = await db.ReadAsync(connection =>
            {
                // Per profile, the items of every store it has a row at, merged in time order; never of a customer who
                // withdrew consent to training under any of their keys.
                using var command = Sql.Command(connection, null, """
                    SELECT COALESCE(ik.profile_id, sp.customer_key), sp.items
                    FROM store_profiles sp LEFT JOIN identity_keys ik ON ik.customer_key = sp.customer_key
                    WHERE sp.items <> '[]'
                      AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.customer_key = sp.customer_key AND c.training <> 0)
                      AND NOT EXISTS (SELECT 1 FROM identity_keys k2 JOIN consents c2 ON c2.customer_key = k2.customer_key
                                      WHERE k2.profile_id = ik.profile_id AND c2.training <> 0)
                    ORDER BY 1;
                    """);
                using var reader = command.ExecuteReader();
                var list = new List<(string Profile, string Items)>();
                while (reader.Read())
                {
                    list.Add((reader.GetString(0), reader.GetString(1)));
                }

                return list;
            }, ct).ConfigureAwait(false);

            var names = new Dictionary<string, string?>(StringComparer.Ordinal);
            var sequences = new List<List<string>>();
            foreach (var group in rows.GroupBy(r => r.Profile, StringComparer.Ordinal))
            {
                if (sequences.Count >= max)
                {
                    break;
                }

                var items = StoreItems.Merge(group.Select(g => ("", g.Items)));
                foreach (var item in items)
                {
                    if (!names.TryGetValue(item.Sku, out var known) || known is null)
                    {
                        names[item.Sku] = item.Name;
                    }
                }

                sequences.Add([.. items.Select(i => i.Sku)]);
            }

            return Results.Json(new
            {
                products = names.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new { sku = kv.Key, name = kv.Value }),
                sequences,
            });
        });

        api.MapGet("/profiles/{customerKey}/recommendations", async (string customerKey, int? k, string? lang, HttpRequest request,
            ProfileReader profiles, HubSecrets secrets, HubDatabase db, RecommenderRegistry registry, CancellationToken ct) =>
        {
            if (!ReasonLanguages.TryFromRequest(lang, request.Headers.AcceptLanguage.ToString(), out var language, out var langError))
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest, langError!);
            }

            if (k is < 1 or > MaxK)
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest, $"k must be 1-{MaxK}");
            }

            if (ApiRequests.CustomerKeyOf(customerKey, secrets, out var text) is not { } canonical)
            {
                return ApiRequests.BadKey(text);
            }

            var live = registry.Current;
            if (live.Recommender is not { } recommender)
            {
                return ApiRequests.Error(StatusCodes.Status404NotFound, "no recommender is published (edgeprofile recommenders build, then publish)");
            }

            if (await profiles.FindAsync(canonical, ct).ConfigureAwait(false) is not { } profile)
            {
                return ApiRequests.Error(StatusCodes.Status404NotFound, $"no profile for '{text}'");
            }

            var personalised = profile.Consent.Personalisation;
            var history = personalised ? await HistoryAsync(db, profile.ProfileId, ct).ConfigureAwait(false) : [];
            var recent = history.Select(i => new RecentInteraction(i.Sku, i.Name, i.Type)).ToList();
            var list = recommender.Recommend(recent, k ?? 10);
            return Results.Json(new
            {
                profileId = profile.ProfileId,
                recommender = live.Version,
                personalised,
                note = personalised ? null : language == ReasonLanguage.ZhCn ? "顾客已撤回个性化授权：只推荐热门商品" : "personalisation consent withdrawn: popular products only",
                history = history.TakeLast(10).Select(i => new { sku = i.Sku, name = i.Name, type = i.Type, at = DateTimeOffset.FromUnixTimeMilliseconds(i.AtUnixMs), store = i.Store }),
                recommendations = list.Select((r, rank) => View(r, rank, language)),
            });
        });

        api.MapGet("/profiles/{customerKey}/similar", async (string customerKey, int? k, ProfileReader profiles, HubSecrets secrets, CustomerVectors customers, CancellationToken ct) =>
        {
            if (k is < 1 or > MaxK)
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest, $"k must be 1-{MaxK}");
            }

            if (ApiRequests.CustomerKeyOf(customerKey, secrets, out var text) is not { } canonical)
            {
                return ApiRequests.BadKey(text);
            }

            if (await profiles.FindAsync(canonical, ct).ConfigureAwait(false) is not { } profile)
            {
                return ApiRequests.Error(StatusCodes.Status404NotFound, $"no profile for '{text}'");
            }

            if (!profile.Consent.Analytics)
            {
                return ApiRequests.Error(StatusCodes.Status403Forbidden, $"profile {profile.ProfileId} withdrew analytics consent");
            }

            var similar = await customers.SimilarAsync(profile.ProfileId, k ?? 10, ct).ConfigureAwait(false);
            return similar is null
                ? ApiRequests.Error(StatusCodes.Status404NotFound, customers.Version is null
                    ? "no customer index: publish a recommender with SASRec"
                    : $"profile {profile.ProfileId} has no product the live recommender knows")
                : Results.Json(new { profileId = profile.ProfileId, recommender = customers.Version, similar = similar.Select(x => new { profileId = x.ProfileId, similarity = x.Similarity }) });
        });

        api.MapGet("/products/{sku}/similar", (string sku, int? k, string? lang, HttpRequest request, RecommenderRegistry registry) =>
        {
            if (!ReasonLanguages.TryFromRequest(lang, request.Headers.AcceptLanguage.ToString(), out var language, out var langError))
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest, langError!);
            }

            if (k is < 1 or > MaxK)
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest, $"k must be 1-{MaxK}");
            }

            if (registry.Current.Recommender is not { } recommender)
            {
                return ApiRequests.Error(StatusCodes.Status404NotFound, "no recommender is published");
            }

            var list = recommender.SimilarProducts(sku, k ?? 10);
            return list.Count == 0 && !recommender.Bundle.Items.Any(i => i.Sku == sku)
                ? ApiRequests.Error(StatusCodes.Status404NotFound, $"product '{sku}' is not in recommender {recommender.Version}")
                : Results.Json(new { sku, recommender = recommender.Version, similar = list.Select((r, rank) => View(r, rank, language)) });
        });
    }

    /// <summary>One recommendation as the API shows it.</summary>
    internal static object View(Recommendation r, int rank, ReasonLanguage language) => new
    {
        rank = rank + 1,
        sku = r.Sku,
        name = r.Name,
        score = r.Score,
        source = r.Source,
        because = r.BecauseOfSku is null ? null : new { sku = r.BecauseOfSku, name = r.BecauseOfName },
        reason = language == ReasonLanguage.ZhCn ? r.ReasonZh : r.ReasonEn,
    };

    /// <summary>Every store's items of the profile, merged in time order (a repeat of the item before it only moves its time).</summary>
    private static async Task<List<StoreItem>> HistoryAsync(HubDatabase db, string profileId, CancellationToken ct)
    {
        var rows = await db.ReadAsync(connection =>
        {
            using var command = Sql.Command(connection, null, """
                SELECT sp.store_id, sp.items FROM identity_keys ik JOIN store_profiles sp ON sp.customer_key = ik.customer_key
                WHERE ik.profile_id = @p AND sp.items <> '[]';
                """, ("@p", profileId.StartsWith("ep:", StringComparison.Ordinal) ? profileId[3..] : profileId));
            using var reader = command.ExecuteReader();
            var list = new List<(string, string)>();
            while (reader.Read())
            {
                list.Add((reader.GetString(0), reader.GetString(1)));
            }

            return list;
        }, ct).ConfigureAwait(false);
        return StoreItems.Merge(rows);
    }

    private static async Task<IResult> Run(Func<Task<IResult>> work)
    {
        try
        {
            return await work().ConfigureAwait(false);
        }
        catch (RecommenderRegistryException ex)
        {
            return ApiRequests.Error(ex.Status, ex.Message);
        }
    }
}
