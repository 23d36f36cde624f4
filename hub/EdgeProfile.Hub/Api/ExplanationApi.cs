using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.Core.Explanations;
using EdgeProfile.Explanations;
using EdgeProfile.Hub.Explanations;
using EdgeProfile.Hub.Profiles;
using EdgeProfile.Hub.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EdgeProfile.Hub.Api;

/// <summary>
/// Explanations over REST (operator token): <c>GET /api/profiles/{key}/explanations?task=&amp;lang=&amp;store=</c> (each
/// store's latest decision on the customer, as the store explained it) and <c>GET /api/models/{version}/importance</c>.
/// </summary>
internal static class ExplanationApi
{
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/profiles/{customerKey}/explanations", async (string customerKey, string? task, string? label, string? lang, string? store,
            HttpRequest request, ProfileReader profiles, HubSecrets secrets, HubDatabase db, CancellationToken ct) =>
        {
            if (!ReasonLanguages.TryFromRequest(lang, request.Headers.AcceptLanguage.ToString(), out var language, out var langError))
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest, langError!);
            }

            if (ApiRequests.CustomerKeyOf(customerKey, secrets, out var text) is not { } canonical)
            {
                return ApiRequests.BadKey(text);
            }

            if (await profiles.FindAsync(canonical, ct).ConfigureAwait(false) is not { } profile)
            {
                return ApiRequests.Error(StatusCodes.Status404NotFound, $"no profile for '{text}'");
            }

            if (profile.Scores.Count == 0)
            {
                // No scores uploaded, or the customer withdrew analytics or personalisation consent (then none are shown).
                return ApiRequests.Error(StatusCodes.Status404NotFound, $"profile {profile.ProfileId} has no scores to explain");
            }

            var rows = await db.ReadAsync(connection =>
            {
                using var command = Sql.Command(connection, null, """
                    SELECT ss.store_id, ss.customer_key, ss.scored_at, ss.scores, ss.explanation
                    FROM identity_keys ik JOIN store_scores ss ON ss.customer_key = ik.customer_key
                    WHERE ik.profile_id = @p AND ss.explanation IS NOT NULL
                    ORDER BY ss.store_id, ss.scored_at DESC;
                    """, ("@p", profile.ProfileId.StartsWith("ep:", StringComparison.Ordinal) ? profile.ProfileId[3..] : profile.ProfileId));
                using var reader = command.ExecuteReader();
                var list = new List<(string Store, string Key, long At, string Scores, string Explanation)>();
                while (reader.Read())
                {
                    list.Add((reader.GetString(0), reader.GetString(1), Sql.Long(reader.GetValue(2)) ?? 0, reader.GetString(3), reader.GetString(4)));
                }

                return list;
            }, ct).ConfigureAwait(false);

            var decisions = new JsonArray();
            string? lastStore = null;
            foreach (var row in rows)
            {
                if (row.Store == lastStore || (store is not null && !string.Equals(row.Store, store, StringComparison.Ordinal)))
                {
                    continue;
                }

                lastStore = row.Store;
                DecisionExplanation explanation;
                try
                {
                    explanation = DecisionExplanation.Parse(row.Explanation);
                }
                catch (JsonException)
                {
                    continue;
                }

                var outputs = ExplanationView.Outputs(explanation, task, label, language);
                if (task is not null && outputs.Count == 0)
                {
                    continue;
                }

                decisions.Add(new JsonObject
                {
                    ["storeId"] = row.Store,
                    ["customerKey"] = row.Key,
                    ["scoredAt"] = DateTimeOffset.FromUnixTimeMilliseconds(row.At),
                    ["model"] = explanation.Model,
                    ["scores"] = JsonNode.Parse(row.Scores),
                    ["method"] = explanation.Method,
                    ["function"] = explanation.Function,
                    ["background"] = explanation.Background,
                    ["explanations"] = outputs,
                });
            }

            if (decisions.Count == 0)
            {
                return ApiRequests.Error(StatusCodes.Status404NotFound,
                    $"profile {profile.ProfileId} has no explained decision{(task is null ? "" : $" for task '{task}'")}{(store is null ? "" : $" at store {store}")}");
            }

            return Results.Json(new JsonObject
            {
                ["profileId"] = profile.ProfileId,
                ["lang"] = ReasonLanguages.Code(language),
                ["decisions"] = decisions,
            });
        });

        api.MapGet("/models/{version}/importance", async (string version, ModelImportance importance, CancellationToken ct) =>
        {
            try
            {
                return await importance.GetAsync(version, ct).ConfigureAwait(false) is { } json
                    ? Results.Json(json)
                    : ApiRequests.Error(StatusCodes.Status404NotFound, $"no model version '{version}' in the registry");
            }
            catch (InvalidDataException ex)
            {
                return ApiRequests.Error(StatusCodes.Status422UnprocessableEntity, ex.Message);
            }
        });
    }
}
