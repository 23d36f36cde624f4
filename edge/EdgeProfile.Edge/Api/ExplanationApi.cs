using System.Globalization;
using System.Text.Json.Nodes;
using EdgeProfile.Core.Customers;
using EdgeProfile.Core.Explanations;
using EdgeProfile.Core.Profiles;
using EdgeProfile.Edge.Log;
using EdgeProfile.Edge.Scoring;
using EdgeProfile.Edge.Uplink;
using EdgeProfile.Explanations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Api;

/// <summary>
/// Why a customer was scored as they were (<c>GET /api/profiles/{key}/explanations</c>) and what a model version
/// relies on overall (<c>GET /api/models/{version}/importance</c>).
/// </summary>
public static class ExplanationApi
{
    /// <summary>Maps the two endpoints.</summary>
    public static IEndpointRouteBuilder MapExplanationApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // The latest decision's explanation as stored with it (or, with ?at=, the decision in force then, from the
        // history), checked by recomputing it from the stored row with the archived model: `reproduced` says whether
        // the numbers agree. ?task= filters (a unique prefix will do: churn → churn_90d); ?lang= or Accept-Language
        // picks the reasons' language (en, zh-CN).
        app.MapGet("/api/profiles/{customerKey}/explanations", (string customerKey, string? task, string? label, string? lang, string? at, string? method,
            HttpRequest request, EdgeDatabase db, EdgeIdentity identity, IOptions<EdgeOptions> o, IServiceProvider sp) =>
        {
            // ?method=lime (or kernel_shap) asks for a second opinion on the same decision, computed on request.
            var asked = method is null ? null : ModelExplainer.ParseMethod(method);
            if (method is not null && asked is null)
            {
                return Results.Json(new { error = $"method '{method}' is not supported (use exact_shapley, kernel_shap or lime)" }, statusCode: 400);
            }

            if (!TryLanguage(lang, request, out var language, out var langError))
            {
                return Results.Json(new { error = langError }, statusCode: 400);
            }

            if (!CustomerKey.TryParse(Uri.UnescapeDataString(customerKey), out var key))
            {
                return Results.Json(new { error = $"'{customerKey}' is not a customer key (kind:value with kind one of {CustomerKey.KindList})" }, statusCode: 400);
            }

            long? atMs = null;
            if (at is not null)
            {
                if (!DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when))
                {
                    return Results.Json(new { error = $"at '{at}' is not a time (use RFC 3339, e.g. 2026-11-29T10:00:00Z)" }, statusCode: 400);
                }

                atMs = when.ToUnixTimeMilliseconds();
            }

            if (sp.GetService<ModelScoring>() is not { } scoring)
            {
                return Results.Json(new { error = "model scoring is off at this edge (set Edge:Models:File or Edge:HubUrl): there are no decisions to explain" }, statusCode: 404);
            }

            key = identity.Pseudonymizer.Canonical(key);
            var profile = ProfileStore.Find(db, key.ToString());
            if (profile is null)
            {
                return Results.Json(new { error = $"no customer {key} at store {o.Value.StoreId}" }, statusCode: 404);
            }

            var view = ProfileMath.View(profile, profile.LastSeen);
            using (var connection = db.OpenRead())
            {
                var consent = GlobalProfileStore.Find(connection, view.Identifiers.Prepend(view.CustomerKey))?.Consent;
                if (consent is { Analytics: true } or { Personalisation: true })
                {
                    return Results.Json(new { error = $"customer {key} withdrew {(consent.Analytics ? "analytics" : "personalisation")} consent: no scores or explanations are shown" }, statusCode: 403);
                }
            }

            if (scoring.FindDecision(profile.CustomerKey, atMs) is not { } decision)
            {
                return Results.Json(new
                {
                    error = atMs is null ? $"customer {key} has not been scored yet" : $"customer {key} has no decision at or before {at} in this edge's history",
                }, statusCode: 404);
            }

            // Recompute from the stored row with the archived model: an audit gets the same numbers, or is told not. A
            // decision not explained yet (explanations follow scores when the scoring service is idle) is explained
            // now from its row: the numbers it will be stored with.
            var stored = decision.Explanation;
            var served = ModelScoring.Flatten(decision.ScoresJson);
            var recomputed = decision.Inputs is { } row
                ? scoring.WithExplainer(decision.ModelVersion, e => row.Length == e.Features.Count ? e.Explain([.. row.Select(v => (double)v)], served) : null)
                : null;
            var shown = stored is not null && (stored.Outputs.Any(x => x.ReasonsEn is not null) || recomputed is null) ? stored : recomputed;
            if (asked is { } other && decision.Inputs is { } input && (shown is null || ModelExplainer.MethodName(other) != shown.Method))
            {
                shown = scoring.WithExplainer(decision.ModelVersion, e =>
                    input.Length == e.Features.Count && (other != Models.Explaining.AttributionMethod.ExactShapley || e.Groups.Count <= Models.Explaining.ExactShapley.MaxGroups)
                        ? e.Explain([.. input.Select(v => (double)v)], served, other)
                        : null);
                if (shown is null)
                {
                    return Results.Json(new { error = $"method '{method}' cannot explain this decision here ({scoring.ExplainProblem(decision.ModelVersion) ?? "more than 16 groups for exact Shapley"})" }, statusCode: 422);
                }
            }

            if (shown is null)
            {
                return Results.Json(new
                {
                    error = $"the decision of {DateTimeOffset.FromUnixTimeMilliseconds(decision.ScoredAtMs):O} cannot be explained here: {scoring.ExplainProblem(decision.ModelVersion) ?? "its input row was not kept"}",
                }, statusCode: 404);
            }

            var difference = stored is not null && recomputed is not null ? stored.Difference(recomputed) : (double?)null;
            var outputs = ExplanationView.Outputs(shown, task, label, language);
            if (task is not null && outputs.Count == 0)
            {
                var tasks = string.Join(", ", shown.Outputs.Select(x => x.Task).Distinct(StringComparer.Ordinal));
                return Results.Json(new { error = $"no task '{task}' in model {shown.Model} (tasks: {tasks})" }, statusCode: 404);
            }

            var scoredAtMs = decision.ScoredAtMs;
            var scoresJson = decision.ScoresJson;
            var body = new JsonObject
            {
                ["storeId"] = o.Value.StoreId,
                ["customerKey"] = view.CustomerKey,
                ["lang"] = ReasonLanguages.Code(language),
                ["decision"] = new JsonObject
                {
                    ["scoredAt"] = DateTimeOffset.FromUnixTimeMilliseconds(scoredAtMs),
                    ["model"] = decision.ModelVersion,
                    ["scores"] = JsonNode.Parse(scoresJson),
                },
                ["method"] = shown.Method,
                ["function"] = shown.Function,
                ["background"] = shown.Background,
                ["inputs"] = new JsonObject([.. shown.Features.Select((f, i) => KeyValuePair.Create(f, (JsonNode?)JsonValue.Create(shown.Inputs[i])))]),
                ["explanations"] = outputs,
                ["stored"] = stored is not null,
                ["reproduced"] = stored is null
                    ? new JsonObject { ["equal"] = null, ["note"] = "not stored yet: computed on request from the decision's row (explanations follow scores when the edge is idle)" }
                    : recomputed is null
                        ? new JsonObject { ["equal"] = null, ["note"] = scoring.ExplainProblem(stored.Model) ?? $"model {stored.Model} cannot be explained here" }
                        : new JsonObject { ["equal"] = difference == 0, ["maxDifference"] = difference },
            };
            return Results.Json(body);
        });

        // Global importance of a model version this edge served: mean |φ| per feature group over the model's background
        // rows, per output (computed once per version, kept in memory).
        app.MapGet("/api/models/{version}/importance", (string version, IServiceProvider sp) =>
        {
            if (sp.GetService<ModelScoring>() is not { } scoring)
            {
                return Results.Json(new { error = "model scoring is off at this edge" }, statusCode: 404);
            }

            return scoring.Importance(version) is { } json
                ? Results.Json(json)
                : Results.Json(new { error = scoring.ExplainProblem(version) ?? $"model {version} is unknown at this edge" }, statusCode: 404);
        });

        return app;
    }

    /// <summary>The language asked by <c>?lang=</c> (an unknown one is an error), else Accept-Language, else English.</summary>
    internal static bool TryLanguage(string? lang, HttpRequest request, out ReasonLanguage language, out string? error) =>
        ReasonLanguages.TryFromRequest(lang, request.Headers.AcceptLanguage.ToString(), out language, out error);
}
